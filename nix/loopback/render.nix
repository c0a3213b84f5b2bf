# What the three NixOS modules render for a one-host loopback deployment, evaluated with nixpkgs'
# lib alone: the NixOS options they set are stubbed as free-form attribute sets, and packages
# as fake store paths (nothing here is built). nix/loopback/run.sh feeds the result to the real
# nginx, Prometheus and binaries.
#
#   nix-instantiate --eval --strict --json nix/loopback/render.nix \
#     --arg lib 'import /path/to/nixpkgs/lib' --arg root ./.
{ lib, root }:
let
  inherit (lib) mkOption types;

  fakePackage = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
    meta.mainProgram = name;
  };
  pkgs = {
    stdenv.hostPlatform.system = "x86_64-linux";
    coreutils = fakePackage "coreutils";
    runCommandLocal = name: env: script: fakePackage name // { inherit env script; };
    writeText = name: text: fakePackage name // { inherit text; };
  };
  self.packages.x86_64-linux = lib.genAttrs [ "emotion-api" "model" "access-log-exporter" "alert-receiver" ] fakePackage;

  freeform = extra: mkOption {
    type = types.submodule { freeformType = types.attrsOf types.anything; options = extra; };
    default = { };
  };
  stubs.options = {
    assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
    warnings = mkOption { type = types.listOf types.str; default = [ ]; };
    networking.hostName = mkOption { type = types.str; default = "loopback"; };
    networking.firewall.allowedTCPPorts = mkOption { type = types.listOf types.port; default = [ ]; };
    services.nginx = freeform {
      user = mkOption { default = "nginx"; };
      group = mkOption { default = "nginx"; };
    };
    services.prometheus = freeform { port = mkOption { default = 9090; }; };
    services.grafana = freeform { };
    services.logrotate = freeform { };
    systemd.services = mkOption { type = types.attrsOf (freeform { }).type; default = { }; };
    systemd.targets = mkOption { type = types.attrsOf types.anything; default = { }; };
    systemd.tmpfiles.rules = mkOption { type = types.listOf types.str; default = [ ]; };
    environment.etc = mkOption { type = types.attrsOf types.anything; default = { }; };
  };

  eval = module: settings:
    let
      config = (lib.evalModules {
        modules = [ stubs { _module.args = { inherit pkgs; }; } module settings ];
      }).config;
      failed = lib.filter (a: !a.assertion) config.assertions;
    in
    if failed == [ ] then config else throw (lib.concatMapStringsSep "\n" (a: a.message) failed);

  local = port: "127.0.0.1:${toString port}";
  v1Ports = [ 8001 8002 8003 ];

  api = eval (import (root + "/nix/modules/emotion-api.nix") { inherit self; }) {
    services.emotion-api = {
      enable = true;
      instances = {
        v1-a = { address = "127.0.0.1"; port = 8001; metricsPort = 9101; };
        v1-b = { address = "127.0.0.1"; port = 8002; metricsPort = 9102; };
        v1-c = { address = "127.0.0.1"; port = 8003; metricsPort = 9103; };
        v2 = { address = "127.0.0.1"; variant = "v2"; port = 8004; metricsPort = 9104; };
      };
      trustedProxies = [ "127.0.0.1/32" ];
    };
  };

  gateway = eval (import (root + "/nix/modules/gateway.nix") { inherit self root; }) {
    services.emotion-gateway = {
      enable = true;
      upstreams.v1 = map local v1Ports;
      upstreams.v2 = [ (local 8004) ];
      tlsCertificate = "/run/secrets/tls.crt";
      tlsCertificateKey = "/run/secrets/tls.key";
      htpasswdFile = "/run/secrets/htpasswd";
    };
  };

  monitoring = eval (import (root + "/nix/modules/monitoring.nix") { inherit self root; }) {
    services.emotion-monitoring = {
      enable = true;
      targets = {
        nginx = [ (local 9113) ];
        gateway-log = [ (local 9114) ];
        api-v1 = map local [ 9101 9102 9103 ];
        api-v2 = [ (local 9104) ];
      };
      grafana = { adminPasswordFile = "/run/secrets/grafana-admin"; secretKeyFile = "/run/secrets/grafana-key"; };
    };
  };
in
{
  apiEnvironment = lib.mapAttrs (_: service: service.environment) api.systemd.services;
  nginxConfig = gateway.services.nginx.config;
  nginxParams = gateway.environment.etc."nginx/params".source.env;
  exporterEnvironment = gateway.systemd.services.access-log-exporter.environment;
  nginxExporterScrapeUri = gateway.services.prometheus.exporters.nginx.scrapeUri;
  prometheusYml = monitoring.services.prometheus.configText;
}
