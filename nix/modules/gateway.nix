# services.emotion-gateway: services.nginx running the repository's nginx/ files unchanged.
#
# 1. nginx/nginx.conf expects, next to it, `gateway/` (the nginx/ folder) and `params/`
#    (written by nginx/render-params.sh). NixOS puts all three in /etc/nginx: with
#    `enableReload` nginx runs `-c /etc/nginx/nginx.conf`, and nginx resolves relative
#    includes against the directory of that file. Only addresses and secret paths vary, and
#    they go through the same render-params.sh that compose uses.
# 2. NixOS writes its own `pid` line (in /run/nginx, the unit's RuntimeDirectory), so ours is
#    dropped; nginx refuses a duplicate `pid`. Everything else is used verbatim.
# 3. Secrets never enter the store (asserted): systemd's LoadCredential copies the key, the
#    certificate and the htpasswd file into /run/credentials/nginx.service, readable only by
#    the nginx user, and params/secrets.conf points there.
# 4. logging.conf writes the access log to /dev/stdout. Under systemd stdout is a socket to
#    journald, which open(2) cannot reopen (ENXIO), so stdout goes to a log file instead, and
#    logrotate truncates that file in place (nginx's reopen would find the same inode).
# 5. The gateway host also runs the access-log-exporter (syslog over loopback) and the Nginx
#    exporter (stub_status on :8081), so the monitoring host scrapes both here.
# 6. The landing page (nginx/www, served at `/`) comes from the same store copy of nginx/ as
#    /etc/nginx/gateway: its store path is the WEB_ROOT parameter.
# 7. The options' defaults are render-params.sh's, read from its `: "${NAME:=value}"` lines
#    (nix/render-defaults.nix): written once, for compose, the loopback harness and NixOS.
{ self, root }:
{ config, lib, pkgs, ... }:
let
  cfg = config.services.emotion-gateway;
  inherit (lib) mkOption types;
  flakePackages = self.packages.${pkgs.stdenv.hostPlatform.system} or { };
  credentials = "/run/credentials/nginx.service";
  # Descriptors per nginx process: the unit's LimitNOFILE and worker_rlimit_nofile (params/nofile.conf).
  nofile = 40000;
  exporter = cfg.accessLogExporter;
  defaults = import ../render-defaults.nix (root + "/nginx/render-params.sh");
  intDefault = name: lib.toInt defaults.${name};

  secretPath = description: mkOption {
    type = types.strMatching "/.+";
    inherit description;
  };

  params = pkgs.runCommandLocal "emotion-gateway-params"
    {
      API_V1_SERVERS = lib.concatStringsSep " " cfg.upstreams.v1;
      API_V2_SERVERS = lib.concatStringsSep " " cfg.upstreams.v2;
      # Static addresses: no `resolve`, no resolver (compose re-resolves Docker names instead).
      UPSTREAM_RESOLVER = "";
      UPSTREAM_MAX_FAILS = toString cfg.upstreams.maxFails;
      UPSTREAM_FAIL_TIMEOUT = cfg.upstreams.failTimeout;
      RATE_LIMIT_RPS = toString cfg.rateLimit.rps;
      RATE_LIMIT_BURST = toString cfg.rateLimit.burst;
      OPEN_RATE_LIMIT_RPS = toString cfg.rateLimit.openRps;
      OPEN_RATE_LIMIT_BURST = toString cfg.rateLimit.openBurst;
      CONN_LIMIT_PER_ADDR = toString cfg.rateLimit.connPerAddress;
      AB_V2_PERCENT = toString cfg.abV2Percent;
      SHADOW_PERCENT = toString cfg.shadowPercent;
      SERVER_NAME = cfg.serverName;
      HTTPS_PORT = toString cfg.httpsPort;
      ACCESS_LOG_SYSLOG = lib.optionalString exporter.enable "127.0.0.1:${toString exporter.syslogPort}";
      TLS_CERT = "${credentials}/tls.crt";
      TLS_KEY = "${credentials}/tls.key";
      HTPASSWD = "${credentials}/htpasswd";
      WEB_ROOT = "${root + "/nginx"}/www";
      # The unit's RuntimeDirectory; nixpkgs' nginx has the stream module built in.
      TLS_SOCKET = "/run/nginx/tls.sock";
      NGINX_MODULES = "";
      # Rendered at build time, where ulimit says nothing of the unit: the unit's own limit.
      NGINX_NOFILE = toString nofile;
    } ''
    sh ${root + "/nginx/render-params.sh"} "$out"
  '';

  nginxConf = lib.concatStringsSep "\n" (lib.filter (line: !(lib.hasPrefix "pid " line))
    (lib.splitString "\n" (builtins.readFile (root + "/nginx/nginx.conf"))));

  inStore = path: lib.hasPrefix "${builtins.storeDir}/" path;
in
{
  options.services.emotion-gateway = {
    enable = lib.mkEnableOption "the emotion API gateway (Nginx with the repository's nginx/ configuration)";

    upstreams = {
      v1 = mkOption {
        type = types.nonEmptyListOf types.str;
        example = [ "10.0.0.3:8001" "10.0.0.3:8002" "10.0.0.3:8003" ];
        description = "host:port of every api-v1 replica.";
      };
      v2 = mkOption {
        type = types.nonEmptyListOf types.str;
        example = [ "10.0.0.3:8004" ];
        description = "host:port of the api-v2 (debug) instances.";
      };
      maxFails = mkOption { type = types.ints.unsigned; default = intDefault "UPSTREAM_MAX_FAILS"; description = "Passive health check: failures before a peer is skipped (nginx/conf/upstreams.conf)."; };
      failTimeout = mkOption { type = types.str; default = defaults.UPSTREAM_FAIL_TIMEOUT; description = "Passive health check window and skip time."; };
    };

    rateLimit = {
      rps = mkOption { type = types.ints.positive; default = intDefault "RATE_LIMIT_RPS"; description = "Requests per second per client IP on /predict*."; };
      burst = mkOption { type = types.ints.unsigned; default = intDefault "RATE_LIMIT_BURST"; description = "Requests above the rate served at once."; };
      openRps = mkOption { type = types.ints.positive; default = intDefault "OPEN_RATE_LIMIT_RPS"; description = "Requests per second per client IP on every other route (health, OpenAPI, redirects)."; };
      openBurst = mkOption { type = types.ints.unsigned; default = intDefault "OPEN_RATE_LIMIT_BURST"; description = "Burst of the open routes' limit."; };
      connPerAddress = mkOption { type = types.ints.between 1 65535; default = intDefault "CONN_LIMIT_PER_ADDR"; description = "Open connections per client IP, on every port."; };
    };

    abV2Percent = mkOption {
      type = types.ints.between 0 100;
      default = intDefault "AB_V2_PERCENT";
      description = "Share of users without an experiment header that the sticky split sends to v2 (nginx/conf/ab-routing.conf); 0 routes them all to v1.";
    };

    shadowPercent = mkOption {
      type = types.ints.between 0 100;
      default = intDefault "SHADOW_PERCENT";
      description = "Share of the requests v1 serves that are mirrored to v2 and compared (nginx/conf/shadow.conf); 0 mirrors nothing.";
    };

    serverName = mkOption {
      type = types.strMatching "[0-9A-Za-z.-]+";
      default = defaults.SERVER_NAME;
      description = "Host name the port-80 redirect points at (never the client's Host header).";
    };

    httpsPort = mkOption {
      type = types.port;
      default = intDefault "HTTPS_PORT";
      description = "HTTPS port clients see, for the Location of the port-80 redirect.";
    };

    tlsCertificate = secretPath "TLS certificate (PEM) outside the Nix store.";
    tlsCertificateKey = secretPath "TLS private key (PEM) outside the Nix store.";
    htpasswdFile = secretPath "htpasswd file for /predict outside the Nix store (see scripts/credentials.sh).";

    openFirewall = mkOption {
      type = types.bool;
      default = true;
      description = "Open ports 80 and 443.";
    };

    accessLogExporter = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Run access-log-exporter here and send it the access log over loopback syslog.";
      };
      package = mkOption {
        type = types.package;
        default = flakePackages.access-log-exporter;
        defaultText = lib.literalMD "this flake's `access-log-exporter` package";
        description = "Package providing `bin/access-log-exporter`.";
      };
      syslogPort = mkOption { type = types.port; default = 5514; description = "UDP port on 127.0.0.1 for Nginx's syslog."; };
      metricsPort = mkOption { type = types.port; default = 9114; description = "Port of its /metrics."; };
    };

    openMetricsFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open the two exporter ports (9114, 9113) to the monitoring host.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = map
      (name: {
        assertion = !inStore cfg.${name};
        message = "services.emotion-gateway.${name} must not be in the Nix store (it is world-readable there).";
      }) [ "tlsCertificateKey" "htpasswdFile" ];

    services.nginx = {
      enable = true;
      enableReload = true;
      config = nginxConf;
      # gixy would check the file alone, without the /etc/nginx tree its includes need; the
      # unit's ExecStartPre `nginx -t` checks the real tree before every start and reload.
      validateConfigFile = false;
    };

    environment.etc."nginx/gateway".source = root + "/nginx";
    environment.etc."nginx/params".source = params;

    systemd.services.nginx = {
      reloadTriggers = [ params (root + "/nginx") ];
      serviceConfig = {
        LoadCredential = [
          "tls.crt:${cfg.tlsCertificate}"
          "tls.key:${cfg.tlsCertificateKey}"
          "htpasswd:${cfg.htpasswdFile}"
        ];
        StandardOutput = "append:/var/log/nginx/access.log";
        # What params/nofile.conf asks for (worker_rlimit_nofile).
        LimitNOFILE = nofile;
      };
    };
    systemd.tmpfiles.rules = [ "d /var/log/nginx 0750 ${config.services.nginx.user} ${config.services.nginx.group} - -" ];
    services.logrotate.settings.nginx.copytruncate = true;

    services.prometheus.exporters.nginx = {
      enable = true;
      scrapeUri = "http://127.0.0.1:8081/stub_status";
      openFirewall = cfg.openMetricsFirewall;
    };

    systemd.services.access-log-exporter = lib.mkIf exporter.enable {
      description = "Gateway access log to Prometheus metrics";
      wantedBy = [ "multi-user.target" ];
      before = [ "nginx.service" ];
      environment = {
        EXPORTER_SYSLOG_ADDR = "127.0.0.1:${toString exporter.syslogPort}";
        EXPORTER_METRICS_ADDR = "0.0.0.0:${toString exporter.metricsPort}";
      };
      serviceConfig = {
        ExecStart = lib.getExe exporter.package;
        Restart = "on-failure";
        MemoryMax = "128M";
      } // import ./hardening.nix { inherit lib; };
    };

    networking.firewall.allowedTCPPorts =
      lib.optionals cfg.openFirewall [ 80 443 ]
      ++ lib.optionals (cfg.openMetricsFirewall && exporter.enable) [ exporter.metricsPort ];
  };
}
