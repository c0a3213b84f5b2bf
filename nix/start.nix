# `nix run .#start`: the compose stack of `make start-project`, with every image and the model
# built by Nix, so it needs no container registry and no Rust toolchain on the host.
#
# 1. Runs from the repository checkout: compose.yaml mounts nginx/, monitoring/, secrets/ and
#    model/ from there, exactly as for `make start-project`.
# 2. Streams each image into `docker load` and exports the variable compose.yaml reads for it
#    (API_IMAGE, NGINX_IMAGE, ...), then installs the Nix-trained model into model/.
# 3. Then the same steps as scripts/start-project.sh, through the same scripts: certificates
#    and credentials if missing, compose up (with --no-build: the images are here), wait until
#    healthy. OFFLINE=0 keeps scripts/stack-env.sh from pulling or swapping the images.
# Docker and Compose v2 (nixpkgs' docker-compose, the `docker compose` plugin) are the host's: they must talk to its daemon.
{ pkgs, rust, images }:
let
  inherit (pkgs) lib;
  loads = lib.concatStringsSep "\n" (lib.mapAttrsToList
    (variable: image: ''load ${variable} ${image} ${lib.escapeShellArg images.refs.${variable}}'')
    images.byVariable);
in
pkgs.writeShellApplication {
  name = "emotion-gateway-start";
  runtimeInputs = with pkgs; [ coreutils diffutils gnused gnugrep openssl python3 ];
  text = ''
    if [[ ! -f compose.yaml || ! -f scripts/stack-env.sh ]]; then
      echo "start: run this from the emotion-gateway checkout (compose.yaml mounts its files)" >&2
      exit 1
    fi
    command -v docker >/dev/null || { echo "start: docker is required" >&2; exit 1; }

    # Streams an image into Docker and points compose's variable at it.
    load() {
      echo "start: docker load $3"
      "$2" | docker load >/dev/null
      export "$1=$3"
    }
    ${loads}

    mkdir -p model
    if ! cmp -s ${rust.model}/emotion-model.bin model/emotion-model.bin; then
      echo "start: installing the Nix-trained model into model/"
      install -m 0644 ${rust.model}/emotion-model.bin ${rust.model}/MODEL_CARD.md ${rust.model}/metrics.json model/
    fi

    scripts/certs.sh secrets
    scripts/credentials.sh secrets

    export OFFLINE=0
    # shellcheck source=/dev/null
    source scripts/stack-env.sh
    # shellcheck disable=SC2154 # COMPOSE comes from stack-env.sh
    "''${COMPOSE[@]}" up -d --no-build --remove-orphans
    scripts/wait-healthy.sh "''${WAIT_TIMEOUT:-240}"

    suffix=""
    [[ ''${HTTPS_PORT:-443} == 443 ]] || suffix=":$HTTPS_PORT"
    cat <<MSG

    Emotion gateway is up (images and model built by Nix).
      API         https://localhost$suffix/predict   (POST, basic auth)
      Prometheus  http://127.0.0.1:''${PROMETHEUS_PORT:-9090}
      Grafana     http://127.0.0.1:''${GRAFANA_PORT:-3000}   (admin password in secrets/grafana.env)
      Credentials secrets/credentials.env, CA cert secrets/tls.crt
      Stop        make stop-project
    MSG
  '';
  meta.description = "Start the emotion gateway stack with Nix-built images";
}
