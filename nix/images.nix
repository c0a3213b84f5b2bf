# OCI images built with dockerTools, so that `nix run .#start` runs the compose stack with no
# container registry: compose.yaml takes every image name from a variable (API_IMAGE, ...),
# and nix/start.nix sets each to the `name:tag` below.
#
# 1. Same contracts as the official and offline images (docker/offline/*.Dockerfile): the
#    same paths, users, entrypoints and ports, so compose's volumes, commands and
#    healthchecks work unchanged. No secret or certificate is baked in; compose mounts them
#    at run time (ARCHITECTURE.md, invariants). The API image carries the model trained by
#    the `model` derivation at /model/emotion-model.bin, so it runs on its own; compose mounts
#    model/ over that path, which nix/start.nix fills with the same artifact.
# 2. The API and exporter images use exactly compose's default names, so a plain
#    `docker compose up` after `nix run .#start` runs the Nix-built binaries too.
# 3. The gateway image carries Nginx, the repository's nginx/ folder as /etc/nginx/gateway
#    and nginx/nginx.conf (compose mounts the same files over them), and the offline image's
#    entrypoint and start hook (docker/offline/docker-entrypoint.sh, docker/nginx/40-gateway.sh).
#    busybox gives the hook sh, sed and install, and the healthchecks wget; curl is there for
#    the gateway's healthcheck, as in the official image.
# 4. streamLayeredImage writes no tarball to the store: each package is a script that streams
#    the image into `docker load`.
{ pkgs, rust, root }:
let
  inherit (pkgs) dockerTools lib;

  # name:tag of each image, and the compose.yaml variable that selects it.
  refs = {
    API_IMAGE = "emotion-gateway/emotion-api:local";
    ACCESS_LOG_EXPORTER_IMAGE = "emotion-gateway/access-log-exporter:local";
    ALERT_RECEIVER_IMAGE = "emotion-gateway/alert-receiver:local";
    NGINX_IMAGE = "emotion-gateway/nix-nginx:${pkgs.nginx.version}";
    NGINX_EXPORTER_IMAGE = "emotion-gateway/nix-nginx-exporter:${pkgs.prometheus-nginx-exporter.version}";
    PROMETHEUS_IMAGE = "emotion-gateway/nix-prometheus:${pkgs.prometheus.version}";
    ALERTMANAGER_IMAGE = "emotion-gateway/nix-alertmanager:${pkgs.prometheus-alertmanager.version}";
    GRAFANA_IMAGE = "emotion-gateway/nix-grafana:${pkgs.grafana.version}";
  };
  nameTag = ref: {
    name = lib.head (lib.splitString ":" ref);
    tag = lib.last (lib.splitString ":" ref);
  };

  # nixpkgs' nginx has no --user, so its workers run as nobody:nogroup; the other images run
  # as the users of their official counterparts.
  users = pkgs.runCommandLocal "image-users" { } ''
    mkdir -p $out/etc
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/var/empty:/bin/false' \
      'grafana:x:472:0:grafana:/var/lib/grafana:/bin/false' > $out/etc/passwd
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'nobody:x:65534:' > $out/etc/group
  '';

  # A Rust service: its binary in /usr/local/bin, run as 65532 like the offline images.
  serviceImage = { ref, package, ports, extraCommands ? "" }: dockerTools.streamLayeredImage (nameTag ref // {
    contents = [ package ];
    extraCommands = ''
      mkdir -p usr/local/bin tmp
      chmod 1777 tmp
      ln -s ${lib.getExe package} usr/local/bin/${package.meta.mainProgram}
    '' + extraCommands;
    config = {
      User = "65532:65532";
      Entrypoint = [ "/usr/local/bin/${package.meta.mainProgram}" ];
      Env = [ "PATH=/usr/local/bin:/bin" ];
      ExposedPorts = lib.genAttrs ports (_: { });
    };
  });

  # compose runs `nginx -g 'daemon off;'` without -c, and nixpkgs' nginx would then read its
  # configuration from the store: this wrapper adds `-c /etc/nginx/nginx.conf` unless the
  # caller gives one, so the image behaves like the official one.
  nginx = pkgs.writeScriptBin "nginx" ''
    #!/bin/sh
    case " $* " in
      *" -c "*) exec ${lib.getExe pkgs.nginx} "$@" ;;
      *) exec ${lib.getExe pkgs.nginx} -c /etc/nginx/nginx.conf "$@" ;;
    esac
  '';

  gateway = dockerTools.streamLayeredImage (nameTag refs.NGINX_IMAGE // {
    contents = [ nginx pkgs.busybox pkgs.curl users ];
    extraCommands = ''
      mkdir -p etc/nginx/params docker-entrypoint.d var/log/nginx var/cache/nginx run tmp
      chmod 1777 tmp
      cp -r ${root + "/nginx"} etc/nginx/gateway
      cp ${root + "/nginx/nginx.conf"} etc/nginx/nginx.conf
      install -m 0755 ${root + "/docker/offline/docker-entrypoint.sh"} docker-entrypoint.sh
      install -m 0755 ${root + "/docker/nginx/40-gateway.sh"} docker-entrypoint.d/40-gateway.sh
    '';
    config = {
      Entrypoint = [ "/docker-entrypoint.sh" ];
      Cmd = [ "nginx" "-g" "daemon off;" ];
      Env = [ "PATH=/bin" ];
      ExposedPorts = { "80/tcp" = { }; "443/tcp" = { }; };
      StopSignal = "SIGQUIT";
    };
  });

  nginxExporter = dockerTools.streamLayeredImage (nameTag refs.NGINX_EXPORTER_IMAGE // {
    contents = [ pkgs.prometheus-nginx-exporter users ];
    config = {
      User = "65534:65534";
      Entrypoint = [ "/bin/nginx-prometheus-exporter" ];
      ExposedPorts."9113/tcp" = { };
    };
  });

  # A server of the Prometheus project laid out as its official image: the configuration in
  # /etc/NAME/NAME.yml, the data in the volume /NAME owned by nobody, run as nobody from there.
  prometheusProjectImage = { ref, package, name, dataFlag, port }: dockerTools.streamLayeredImage (nameTag ref // {
    contents = [ package pkgs.busybox users ];
    fakeRootCommands = ''
      mkdir -p ${name} etc/${name}
      chown 65534:65534 ${name}
    '';
    config = {
      User = "65534:65534";
      WorkingDir = "/${name}";
      Entrypoint = [ "/bin/${name}" ];
      Cmd = [ "--config.file=/etc/${name}/${name}.yml" "${dataFlag}=/${name}" ];
      ExposedPorts."${toString port}/tcp" = { };
      Volumes."/${name}" = { };
    };
  });

  prometheus = prometheusProjectImage {
    ref = refs.PROMETHEUS_IMAGE;
    package = pkgs.prometheus;
    name = "prometheus";
    dataFlag = "--storage.tsdb.path";
    port = 9090;
  };

  alertmanager = prometheusProjectImage {
    ref = refs.ALERTMANAGER_IMAGE;
    package = pkgs.prometheus-alertmanager;
    name = "alertmanager";
    dataFlag = "--storage.path";
    port = 9093;
  };

  # The official image's paths (GF_PATHS_*), so compose's provisioning mounts apply.
  grafana = dockerTools.streamLayeredImage (nameTag refs.GRAFANA_IMAGE // {
    contents = [ pkgs.grafana pkgs.busybox users ];
    fakeRootCommands = ''
      mkdir -p var/lib/grafana/plugins var/log/grafana etc/grafana/provisioning tmp
      chmod 1777 tmp
      chown -R 472:0 var/lib/grafana var/log/grafana
    '';
    config = {
      User = "472:0";
      Entrypoint = [ "/bin/grafana" "server" "--homepath" "${pkgs.grafana}/share/grafana" ];
      Env = [
        "GF_PATHS_DATA=/var/lib/grafana"
        "GF_PATHS_LOGS=/var/log/grafana"
        "GF_PATHS_PLUGINS=/var/lib/grafana/plugins"
        "GF_PATHS_PROVISIONING=/etc/grafana/provisioning"
      ];
      ExposedPorts."3000/tcp" = { };
      Volumes."/var/lib/grafana" = { };
    };
  });
in
rec {
  inherit refs;
  # By compose variable: nix/start.nix loads each and exports VARIABLE=name:tag.
  byVariable = {
    API_IMAGE = serviceImage {
      ref = refs.API_IMAGE;
      package = rust.emotion-api;
      ports = [ "8000/tcp" "9100/tcp" ];
      extraCommands = ''
        mkdir -p model
        cp ${rust.model}/emotion-model.bin model/emotion-model.bin
      '';
    };
    ACCESS_LOG_EXPORTER_IMAGE = serviceImage { ref = refs.ACCESS_LOG_EXPORTER_IMAGE; package = rust.access-log-exporter; ports = [ "5514/udp" "9114/tcp" ]; };
    ALERT_RECEIVER_IMAGE = serviceImage { ref = refs.ALERT_RECEIVER_IMAGE; package = rust.alert-receiver; ports = [ "9095/tcp" ]; };
    NGINX_IMAGE = gateway;
    NGINX_EXPORTER_IMAGE = nginxExporter;
    PROMETHEUS_IMAGE = prometheus;
    ALERTMANAGER_IMAGE = alertmanager;
    GRAFANA_IMAGE = grafana;
  };
  # As flake packages: `nix build .#gateway-image && ./result | docker load`.
  packages = {
    api-image = byVariable.API_IMAGE;
    access-log-exporter-image = byVariable.ACCESS_LOG_EXPORTER_IMAGE;
    alert-receiver-image = byVariable.ALERT_RECEIVER_IMAGE;
    gateway-image = byVariable.NGINX_IMAGE;
    nginx-exporter-image = byVariable.NGINX_EXPORTER_IMAGE;
    prometheus-image = byVariable.PROMETHEUS_IMAGE;
    alertmanager-image = byVariable.ALERTMANAGER_IMAGE;
    grafana-image = byVariable.GRAFANA_IMAGE;
  };
}
