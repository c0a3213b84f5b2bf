# systemd sandboxing shared by the project's own services (emotion-api, access-log-exporter):
# unprivileged network daemons that read their inputs, write nothing but logs and need no
# kernel interface beyond sockets. One list, so that tightening it tightens every unit.
# `privileged` keeps CAP_NET_BIND_SERVICE for a port below 1024 (and thus no PrivateUsers).
{ lib, privileged ? false }:
{
  DynamicUser = true;
  CapabilityBoundingSet = if privileged then [ "CAP_NET_BIND_SERVICE" ] else [ "" ];
  AmbientCapabilities = lib.optionals privileged [ "CAP_NET_BIND_SERVICE" ];
  NoNewPrivileges = true;
  ProtectSystem = "strict";
  ProtectHome = true;
  PrivateTmp = true;
  PrivateDevices = true;
  PrivateUsers = !privileged;
  PrivateMounts = true;
  ProtectHostname = true;
  ProtectClock = true;
  ProtectKernelTunables = true;
  ProtectKernelModules = true;
  ProtectKernelLogs = true;
  ProtectControlGroups = true;
  ProtectProc = "invisible";
  ProcSubset = "pid";
  RestrictAddressFamilies = [ "AF_INET" "AF_INET6" "AF_UNIX" ];
  RestrictNamespaces = true;
  RestrictRealtime = true;
  RestrictSUIDSGID = true;
  LockPersonality = true;
  MemoryDenyWriteExecute = true;
  RemoveIPC = true;
  UMask = "0077";
  SystemCallArchitectures = "native";
  SystemCallFilter = [ "@system-service" "~@privileged" "~@resources" ];
}
