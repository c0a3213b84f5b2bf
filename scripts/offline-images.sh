#!/usr/bin/env bash
# The offline image path: builds every image the stack needs without a
# container registry, from Debian packages and host-built binaries, and
# tags them with the names scripts/stack-env.sh exports for OFFLINE=1.
#
#   1. rootfs: debootstrap a minimal Debian forky (testing) with nginx and
#      its stream module (a separate package in Debian), prometheus,
#      prometheus-alertmanager, prometheus-nginx-exporter, ca-certificates,
#      curl and wget; trimmed of docs and apt caches, cached as
#      build/offline/rootfs-<suite>.tar so reruns skip it (unless the package
#      list changed: it is kept beside the tarball). Why forky: the
#      gateway needs nginx >= 1.27.3 (`server NAME resolve` re-resolves
#      replicas as they come and go, nginx/conf/upstreams.conf); trixie has
#      1.26, forky 1.30. Bookworm's debootstrap has no forky script; forky
#      bootstraps like sid, so the sid script is passed explicitly.
#   2. `docker import` of that tarball as emotion-gateway/offline-base.
#   3. Thin images FROM the base mimicking the official images' paths and
#      entrypoints (docker/offline/*.Dockerfile), and the three Rust services
#      from `cargo build --release` binaries.
# Grafana has no Debian package and cannot be built here: the offline
# stack runs without it (docker/README.md lists every divergence).
#
# Usage: scripts/offline-images.sh          (SUITE=bookworm to change suite,
#        MIRROR=http://... for another Debian mirror, REBUILD=1 to redo)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
suite=${SUITE:-forky}
mirror=${MIRROR:-http://deb.debian.org/debian}
tag=${OFFLINE_TAG:-$suite}
cache=build/offline
tarball=$cache/rootfs-$suite.tar
base=emotion-gateway/offline-base:$tag
packages=nginx,libnginx-mod-stream,prometheus,prometheus-alertmanager,prometheus-nginx-exporter,ca-certificates,curl,wget

log() { printf '[offline-images] %s\n' "$*"; }
mkdir -p "$cache"

# 1. rootfs tarball (cached; a tarball made with another package list is redone)
if [[ ! -s $tarball || ${REBUILD:-0} == 1 || $(cat "$tarball.packages" 2>/dev/null) != "$packages" ]]; then
    command -v debootstrap >/dev/null || { echo "debootstrap is required (apt-get install debootstrap)" >&2; exit 1; }
    dir=$cache/rootfs-$suite
    rm -rf "$dir"
    log "debootstrap $suite ($packages) from $mirror"
    script=/usr/share/debootstrap/scripts/$suite
    [[ -e $script ]] || script=/usr/share/debootstrap/scripts/sid
    # Testing moves daily: a mirror caught mid-sync fails a download now and
    # then, so one retry before giving up.
    for attempt in 1 2; do
        rm -rf "$dir"
        if debootstrap --variant=minbase --include="$packages" "$suite" "$dir" "$mirror" "$script" \
            >"$cache/debootstrap.log" 2>&1; then
            break
        fi
        tail -20 "$cache/debootstrap.log" >&2
        [[ $attempt == 2 ]] && exit 1
        log "debootstrap failed; retrying once"
    done
    # Trim what no container needs: docs, man pages, locales, apt caches.
    rm -rf "$dir"/usr/share/{doc,man,info,locale}/* "$dir"/var/cache/apt/* "$dir"/var/lib/apt/lists/* \
        "$dir"/var/log/*.log "$dir"/etc/nginx/sites-enabled/default
    tar -C "$dir" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    echo "$packages" >"$tarball.packages"
    rm -rf "$dir"
    log "cached $tarball ($(du -h "$tarball" | cut -f1))"
else
    log "using cached $tarball"
fi

# 2. base image (re-imported when its label names another package list)
label=org.emotion-gateway.packages
if [[ ${REBUILD:-0} == 1 ]] ||
    [[ $(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$base" 2>/dev/null) != "$packages" ]]; then
    log "docker import -> $base"
    docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL $label=$packages" --change 'CMD ["/bin/bash"]' "$tarball" "$base" >/dev/null
fi

build() { # IMAGE DOCKERFILE CONTEXT
    log "docker build $1"
    local old new
    old=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true)
    docker build -q --build-arg BASE="$base" -t "$1" -f "$2" "$3" >/dev/null
    new=$(docker image inspect -f '{{.Id}}' "$1")
    # A rebuilt binary leaves the previous image untagged: remove it (only
    # that one, and only when no container uses it).
    if [[ -n $old && $old != "$new" ]]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
}

# 3a. thin images mimicking the official ones
build "emotion-gateway/offline-nginx:$tag" docker/offline/nginx.Dockerfile docker/offline
build "emotion-gateway/offline-prometheus:$tag" docker/offline/prometheus.Dockerfile docker/offline
build "emotion-gateway/offline-alertmanager:$tag" docker/offline/alertmanager.Dockerfile docker/offline
build "emotion-gateway/offline-nginx-exporter:$tag" docker/offline/nginx-exporter.Dockerfile docker/offline

# 3b. the Rust services from host-built release binaries
log "cargo build --release -p emotion-api -p access-log-exporter -p alert-receiver"
cargo build --release --locked -p emotion-api -p access-log-exporter -p alert-receiver
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
for bin in emotion-api access-log-exporter alert-receiver; do
    ctx=$cache/ctx-$bin
    rm -rf "$ctx" && mkdir -p "$ctx"
    cp "$target_dir/release/$bin" "$ctx/$bin"
    build "emotion-gateway/offline-$bin:$tag" "docker/offline/$bin.Dockerfile" "$ctx"
done

docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep '^emotion-gateway/offline-' | sort
