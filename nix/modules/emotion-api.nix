# services.emotion-api: any number of API instances on one host, each its own systemd service.
#
# 1. `instances.<name>` becomes `emotion-api-<name>.service`; all of them are part of
#    `emotion-api.target`, so one unit starts, stops or waits for the whole set.
# 2. The model is a package (this flake's `model` by default): the artifact lives in the
#    store, is read-only, and a new model is a new system generation that can roll back.
# 3. Configuration is the environment contract of ARCHITECTURE.md; `settings` passes any
#    EMOTION_* variable through, so a new variable needs no module change.
# 4. The service needs no state, no privileges and no files but the model: DynamicUser and
#    the usual systemd sandbox, plus memory and task limits per instance.
# 5. Feedback receipts need a key every instance shares (`feedbackKeyFile`). It never enters
#    the store (asserted): systemd's LoadCredential copies it into the unit's credentials
#    folder, readable by that unit's dynamic user only, and EMOTION_FEEDBACK_KEY_FILE points
#    there, so the key is in no environment. Without it the instances run with feedback off.
{ self }:
{ config, lib, pkgs, ... }:
let
  cfg = config.services.emotion-api;
  inherit (lib) mkOption types;
  flakePackages = self.packages.${pkgs.stdenv.hostPlatform.system} or { };

  envValue = types.oneOf [ types.str types.int ];

  instanceModule = { name, ... }: {
    options = {
      variant = mkOption {
        type = types.enum [ "v1" "v2" ];
        default = "v1";
        description = "Model variant: `v1` (production) or `v2` (debug: adds the explanation).";
      };
      address = mkOption {
        type = types.str;
        default = "0.0.0.0";
        description = "Address both listeners bind to.";
      };
      port = mkOption {
        type = types.port;
        description = "Port of the HTTP API (EMOTION_HTTP_ADDR).";
      };
      metricsPort = mkOption {
        type = types.port;
        description = "Port of the Prometheus /metrics listener (EMOTION_METRICS_ADDR).";
      };
      instanceId = mkOption {
        type = types.str;
        default = "${config.networking.hostName}-${name}";
        defaultText = lib.literalExpression ''"''${config.networking.hostName}-<name>"'';
        description = "Reported in the X-Instance response header.";
      };
      model = mkOption {
        type = types.nullOr types.package;
        default = null;
        example = lib.literalExpression "self.packages.x86_64-linux.model-challenger";
        description = "Model directory for this instance only (an experiment's challenger on v2); null: the shared `model`.";
      };
      settings = mkOption {
        type = types.attrsOf envValue;
        default = { };
        example = { RUST_LOG = "debug"; };
        description = "Environment for this instance only; overrides the shared `settings`.";
      };
    };
  };

  credentialsOf = name: "/run/credentials/emotion-api-${name}.service";

  environmentOf = name: inst:
    lib.mapAttrs (_: toString) ({
      EMOTION_VARIANT = inst.variant;
      EMOTION_HTTP_ADDR = "${inst.address}:${toString inst.port}";
      EMOTION_METRICS_ADDR = "${inst.address}:${toString inst.metricsPort}";
      EMOTION_MODEL_PATH = "${if inst.model != null then inst.model else cfg.model}/emotion-model.bin";
      EMOTION_INSTANCE_ID = inst.instanceId;
      EMOTION_TRUSTED_PROXIES = lib.concatStringsSep "," cfg.trustedProxies;
    } // lib.filterAttrs (_: value: value != null) {
      # Unset limits are left to the service, whose defaults are written once, in its code.
      EMOTION_MAX_TEXT_CHARS = cfg.limits.maxTextChars;
      EMOTION_MAX_BATCH = cfg.limits.maxBatch;
      EMOTION_MAX_BODY_BYTES = cfg.limits.maxBodyBytes;
      EMOTION_REQUEST_TIMEOUT_MS = cfg.limits.requestTimeoutMs;
    } // lib.optionalAttrs (cfg.feedbackKeyFile != null) {
      EMOTION_FEEDBACK_KEY_FILE = "${credentialsOf name}/feedback-key";
    } // cfg.settings // inst.settings);

  ports = lib.concatMap (inst: [ inst.port inst.metricsPort ]) (lib.attrValues cfg.instances);
  privileged = lib.any (port: port < 1024) ports;
in
{
  options.services.emotion-api = {
    enable = lib.mkEnableOption "the emotion classifier API";

    package = mkOption {
      type = types.package;
      default = flakePackages.emotion-api;
      defaultText = lib.literalMD "this flake's `emotion-api` package";
      description = "Package providing `bin/emotion-api`.";
    };

    model = mkOption {
      type = types.package;
      default = flakePackages.model;
      defaultText = lib.literalMD "this flake's `model` package, trained from data/";
      description = "Directory (usually a derivation) holding `emotion-model.bin`.";
    };

    instances = mkOption {
      type = types.attrsOf (types.submodule instanceModule);
      default = { };
      example = lib.literalExpression ''
        {
          v1-a = { port = 8001; metricsPort = 9101; };
          v1-b = { port = 8002; metricsPort = 9102; };
          debug = { variant = "v2"; port = 8004; metricsPort = 9104; };
        }
      '';
      description = "API instances; each becomes `emotion-api-<name>.service`.";
    };

    limits = {
      # null: the service's own default (crates/emotion-api/src/configuration.rs, README).
      maxTextChars = mkOption { type = types.nullOr types.ints.positive; default = null; description = "Longer text gets a 422 (null: the service's default)."; };
      maxBatch = mkOption { type = types.nullOr types.ints.positive; default = null; description = "A larger batch gets a 422 (null: the service's default)."; };
      maxBodyBytes = mkOption { type = types.nullOr types.ints.positive; default = null; description = "A larger body gets a 413 (null: the service's default)."; };
      requestTimeoutMs = mkOption { type = types.nullOr types.ints.positive; default = null; description = "Per-request timeout (null: the service's default)."; };
      memoryMax = mkOption {
        type = types.str;
        default = "512M";
        description = "systemd MemoryMax of each instance (the model and its buffers need far less).";
      };
      tasksMax = mkOption { type = types.ints.positive; default = 256; description = "systemd TasksMax of each instance."; };
    };

    feedbackKeyFile = mkOption {
      type = types.nullOr (types.strMatching "/.+");
      default = null;
      example = "/var/lib/emotion-secrets/feedback.key";
      description = ''
        File outside the Nix store holding the key of the feedback receipts: at least 64 hex
        digits (`openssl rand -hex 32`), the same for every instance of every host behind one
        gateway. `null`: predictions carry no receipt and POST /feedback answers 501.
      '';
    };

    trustedProxies = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "10.0.0.2/32" ];
      description = "CIDRs (the gateway) whose X-Real-IP header the API believes.";
    };

    settings = mkOption {
      type = types.attrsOf envValue;
      default = { };
      example = { RUST_LOG = "info,emotion_api=debug"; EMOTION_RATE_LIMIT_RPS = 0; };
      description = "Environment shared by every instance (any variable of ARCHITECTURE.md).";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open every instance's API and metrics port.";
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.instances != { };
        message = "services.emotion-api.enable needs at least one entry in services.emotion-api.instances.";
      }
      {
        assertion = lib.length ports == lib.length (lib.unique ports);
        message = "services.emotion-api.instances: every port and metricsPort must be distinct.";
      }
      {
        assertion = cfg.feedbackKeyFile == null || !lib.hasPrefix "${builtins.storeDir}/" cfg.feedbackKeyFile;
        message = "services.emotion-api.feedbackKeyFile must not be in the Nix store (it is world-readable there).";
      }
    ];

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall ports;

    systemd.targets.emotion-api = {
      description = "All emotion API instances";
      wantedBy = [ "multi-user.target" ];
      wants = map (name: "emotion-api-${name}.service") (lib.attrNames cfg.instances);
    };

    systemd.services = lib.mapAttrs'
      (name: inst: lib.nameValuePair "emotion-api-${name}" {
        description = "Emotion API ${inst.variant} (${name})";
        partOf = [ "emotion-api.target" ];
        wantedBy = [ "emotion-api.target" ];
        after = [ "network.target" ];
        environment = environmentOf name inst;
        serviceConfig = {
          ExecStart = lib.getExe cfg.package;
          # SIGHUP reloads the model without dropping a request.
          ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
          Restart = "on-failure";
          RestartSec = 2;
          # Longer than EMOTION_SHUTDOWN_TIMEOUT_MS (10 s), so the drain finishes first.
          TimeoutStopSec = 15;

          MemoryMax = cfg.limits.memoryMax;
          TasksMax = cfg.limits.tasksMax;
          LimitNOFILE = 65536;
          LoadCredential = lib.optional (cfg.feedbackKeyFile != null) "feedback-key:${cfg.feedbackKeyFile}";
        } // import ./hardening.nix { inherit lib privileged; };
      })
      cfg.instances;
  };
}
