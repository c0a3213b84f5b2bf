# services.emotion-monitoring: Prometheus and Grafana configured from the repository's monitoring/.
#
# 1. prometheus.yml is used as it is written for compose, with only the targets swapped
#    (its header makes the job names a contract: nginx, gateway-log, api-v1, api-v2,
#    prometheus). Each `- job_name:` section named in `targets` gets a static_configs list
#    instead; everything else (globals, intervals, external labels) stays verbatim. A job that
#    is missing from the file stops the evaluation with a message, never silently.
# 2. rule_files point at monitoring/prometheus/rules in the store, checked by promtool when
#    the system is built (services.prometheus.checkConfig).
# 3. Grafana reads the same provisioning files as compose: the datasource file is copied with
#    its URL swapped to this host's Prometheus, and the dashboards provider with its folder
#    swapped to the dashboards in the store. A needle that is no longer in the file stops the
#    evaluation too.
# 4. The admin password and the signing key come from files outside the store (asserted):
#    systemd's LoadCredential copies them where only Grafana's user can read them, and
#    Grafana reads them through its `$__file{}` provider.
# 5. Alerting (`alertmanager.enable`): nixpkgs' Alertmanager runs monitoring/alertmanager/
#    alertmanager.yml with only the webhook's URL swapped (to the alert-receiver service
#    here, or `webhookUrl`), and prometheus.yml's alerting block and its `alertmanager` and
#    `alert-receiver` jobs point at this host. Without it, the block and both jobs are left
#    out, so that Prometheus neither sends alerts nor scrapes what does not exist.
{ self, root }:
{ config, lib, pkgs, ... }:
let
  cfg = config.services.emotion-monitoring;
  am = cfg.alertmanager;
  inherit (am) receiver;
  inherit (lib) mkOption types;
  flakePackages = self.packages.${pkgs.stdenv.hostPlatform.system} or { };

  monitoring = root + "/monitoring";
  jobSeparator = "\n  - job_name: ";

  # host:port where local services are reached (a wildcard listen address over loopback).
  reach = address: port: "${if lib.elem address [ "" "0.0.0.0" ] then "127.0.0.1" else address}:${toString port}";
  alertmanagerAddress = reach am.listenAddress am.port;
  receiverAddress = reach "127.0.0.1" receiver.port;
  runsReceiver = am.enable && receiver.enable;

  # prometheus.yml's alerting block, as written for compose (it must be there).
  alertingBlock = ''
    alerting:
      alertmanagers:
        - static_configs:
            - targets: ["alertmanager:9093"]
  '';
  # Jobs this host has no target for, and the targets of the alerting jobs it has; targets
  # given in `cfg.targets` win.
  droppedJobs = lib.optionals (!am.enable) [ "alertmanager" "alert-receiver" ]
    ++ lib.optional (am.enable && !receiver.enable) "alert-receiver";
  targets = lib.optionalAttrs am.enable { alertmanager = [ alertmanagerAddress ]; }
    // lib.optionalAttrs runsReceiver { alert-receiver = [ receiverAddress ]; }
    // cfg.targets;

  # prometheus.yml with the static targets of `cfg.targets` and absolute rule paths.
  prometheusYml =
    let
      text = builtins.readFile (monitoring + "/prometheus/prometheus.yml");
      parts = lib.splitString jobSeparator text;
      header = lib.head parts;
      jobName = part: lib.head (lib.splitString "\n" part);
      present = map jobName (lib.tail parts);
      missing = lib.subtractLists present (lib.attrNames targets ++ droppedJobs);
      render = part:
        let name = jobName part; in
        if targets ? ${name} then
          "${name}\n    static_configs:\n      - targets: ${builtins.toJSON targets.${name}}\n"
        else part;
      kept = lib.filter (part: !lib.elem (jobName part) droppedJobs) (lib.tail parts);
      rulesLine = "  - rules/*.yml";
      alerting = lib.optionalString am.enable
        (lib.replaceStrings [ "alertmanager:9093" ] [ alertmanagerAddress ] alertingBlock);
    in
    if missing != [ ] then
      throw "services.emotion-monitoring: monitoring/prometheus/prometheus.yml has no job ${toString missing}"
    else if !(lib.hasInfix rulesLine header) then
      throw "services.emotion-monitoring: monitoring/prometheus/prometheus.yml no longer lists '${rulesLine}'"
    else if !(lib.hasInfix alertingBlock header) then
      throw "services.emotion-monitoring: monitoring/prometheus/prometheus.yml no longer has the alerting block ${alertingBlock}"
    else
      lib.concatStringsSep jobSeparator
        ([
          (lib.replaceStrings [ rulesLine alertingBlock ] [ "  - ${monitoring}/prometheus/rules/*.yml" alerting ] header)
        ] ++ map render kept);

  # alertmanager.yml with the webhook pointed at this host's receiver (or `webhookUrl`).
  alertmanagerYml =
    let
      text = builtins.readFile (monitoring + "/alertmanager/alertmanager.yml");
      url = "http://alert-receiver:9095/alerts";
    in
    if lib.hasInfix url text then lib.replaceStrings [ url ] [ am.webhookUrl ] text
    else throw "services.emotion-monitoring: monitoring/alertmanager/alertmanager.yml no longer contains '${url}'";

  # A provisioning file of monitoring/grafana with one string swapped, which must be there.
  provisioning = path: from: to:
    let text = builtins.readFile (monitoring + "/grafana/provisioning/${path}"); in
    if lib.hasInfix from text
    then pkgs.writeText (baseNameOf path) (lib.replaceStrings [ from ] [ to ] text)
    else throw "services.emotion-monitoring: monitoring/grafana/provisioning/${path} no longer contains '${from}'";
  prometheusUrl = "http://127.0.0.1:${toString config.services.prometheus.port}";
  credentials = "/run/credentials/grafana.service";
  grafanaSecrets = [ "adminPasswordFile" "secretKeyFile" ];
in
{
  options.services.emotion-monitoring = {
    enable = lib.mkEnableOption "Prometheus and Grafana for the emotion gateway, from monitoring/";

    targets = mkOption {
      type = types.attrsOf (types.listOf types.str);
      example = {
        nginx = [ "gateway:9113" ];
        gateway-log = [ "gateway:9114" ];
        api-v1 = [ "api:9101" "api:9102" "api:9103" ];
        api-v2 = [ "api:9104" ];
      };
      description = ''
        host:port targets by job name of monitoring/prometheus/prometheus.yml; every job named
        here replaces that job's discovery, the others are kept as written.
      '';
    };

    grafana = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Run Grafana with the repository's datasource and dashboards.";
      };
      adminPasswordFile = mkOption {
        type = types.strMatching "/.+";
        description = "File holding Grafana's admin password, outside the Nix store.";
      };
      secretKeyFile = mkOption {
        type = types.strMatching "/.+";
        description = "File holding Grafana's signing key (`openssl rand -hex 32`), outside the Nix store.";
      };
      port = mkOption { type = types.port; default = 3000; description = "Grafana's HTTP port."; };
      listenAddress = mkOption { type = types.str; default = "127.0.0.1"; description = "Grafana's address."; };
    };

    alertmanager = {
      enable = lib.mkEnableOption ''
        Alertmanager with monitoring/alertmanager/alertmanager.yml, and Prometheus sending it
        the alerts of monitoring/prometheus/rules
      '';
      port = mkOption { type = types.port; default = 9093; description = "Alertmanager's port (UI and API)."; };
      listenAddress = mkOption { type = types.str; default = "127.0.0.1"; description = "Alertmanager's address."; };
      webhookUrl = mkOption {
        type = types.str;
        default = "http://${receiverAddress}/alerts";
        defaultText = lib.literalExpression ''"http://127.0.0.1:''${toString receiver.port}/alerts"'';
        description = ''
          Where alertmanager.yml's `webhook` receiver posts: the alert receiver below by default.
          Mail and chat receivers are added in alertmanager.yml itself.
        '';
      };
      receiver = {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = ''
            Run crates/alert-receiver on 127.0.0.1 as the webhook's target (with Alertmanager
            only): each alert becomes a JSON line in its journal, the last 1000 notifications
            are at GET /alerts.
          '';
        };
        package = mkOption {
          type = types.package;
          default = flakePackages.alert-receiver;
          defaultText = lib.literalMD "this flake's `alert-receiver` package";
          description = "Package providing `bin/alert-receiver`.";
        };
        port = mkOption { type = types.port; default = 9095; description = "The receiver's port on 127.0.0.1."; };
      };
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open Prometheus', Grafana's and Alertmanager's ports.";
    };
  };

  config = lib.mkIf cfg.enable (lib.mkMerge [
    {
      services.prometheus = {
        enable = true;
        configText = prometheusYml;
      };
      networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall
        ([ config.services.prometheus.port ] ++ lib.optional cfg.grafana.enable cfg.grafana.port);
    }

    (lib.mkIf am.enable {
      services.prometheus.alertmanager = {
        enable = true;
        inherit (am) port listenAddress;
        configText = alertmanagerYml;
        # One instance: no gossip listener looking for peers (as in compose).
        extraFlags = [ "--cluster.listen-address=" ];
      };
      networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ am.port ];
    })

    (lib.mkIf runsReceiver {
      systemd.services.alert-receiver = {
        description = "Alertmanager webhook receiver: logs each alert, keeps the last ones";
        wantedBy = [ "multi-user.target" ];
        before = [ "alertmanager.service" ];
        environment.ALERT_RECEIVER_ADDR = receiverAddress;
        serviceConfig = {
          ExecStart = lib.getExe receiver.package;
          Restart = "on-failure";
          MemoryMax = "128M";
        } // import ./hardening.nix { inherit lib; };
      };
    })

    (lib.mkIf cfg.grafana.enable {
      assertions = map
        (name: {
          assertion = !lib.hasPrefix "${builtins.storeDir}/" cfg.grafana.${name};
          message = "services.emotion-monitoring.grafana.${name} must not be in the Nix store (it is world-readable there).";
        })
        grafanaSecrets;

      services.grafana = {
        enable = true;
        settings = {
          server = {
            http_addr = cfg.grafana.listenAddress;
            http_port = cfg.grafana.port;
          };
          security = {
            admin_user = "admin";
            admin_password = "$__file{${credentials}/admin-password}";
            secret_key = "$__file{${credentials}/secret-key}";
          };
          users.allow_sign_up = false;
          analytics = {
            reporting_enabled = false;
            check_for_updates = false;
          };
        };
        provision = {
          enable = true;
          datasources.path = provisioning "datasources/prometheus.yml" "http://prometheus:9090" prometheusUrl;
          dashboards.path = provisioning "dashboards/emotion-gateway.yml" "/var/lib/grafana/dashboards" "${monitoring}/grafana/dashboards";
        };
      };

      systemd.services.grafana.serviceConfig.LoadCredential = [
        "admin-password:${cfg.grafana.adminPasswordFile}"
        "secret-key:${cfg.grafana.secretKeyFile}"
      ];
    })
  ]);
}
