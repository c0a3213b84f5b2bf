#!/usr/bin/env bash
# What each entry point needs on this machine, checked (and on Debian,
# installed) before it starts: the one list of the project's host tools.
#
# Usage: scripts/prerequisites.sh [--install] start|test|ci
#   start  make start-project: Docker (daemon reachable), Compose, openssl,
#          cargo; on the offline image path also debootstrap and root
#   test   make test and the resilience suite: start's, plus nginx (nginx -t),
#          promtool, amtool, shellcheck, python3 with venv, htpasswd,
#          chromium + chromedriver (browser test), a static busybox
#          (resilience client containers), curl, jq, git
#   ci     test's, plus nix (the flake's static checks) and wrk (benchmarks)
#
# A missing tool is one line naming it and how to get it, and exit 1.
# As root on a Debian-like system (or with --install), the missing Debian
# packages are installed first (INSTALL_PREREQUISITES=0: only check) (services they
# ship are not started: Debian's nginx, prometheus and alertmanager would
# take the ports the stack publishes). Docker and the Rust toolchain are
# never installed by this script: they are named with where to get them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

default_install=0
[[ $(id -u) == 0 ]] && command -v apt-get >/dev/null && default_install=1
install=${INSTALL_PREREQUISITES:-$default_install}
[[ ${1-} == --install ]] && { install=1; shift; }
what=${1:?usage: prerequisites.sh [--install] start|test|ci}

# command -> Debian package (what apt-get installs to provide it).
declare -A package=(
    [openssl]=openssl [curl]=curl [jq]=jq [git]=git [make]=make
    [python3]=python3 [debootstrap]=debootstrap [nginx]=nginx
    [promtool]=prometheus [prometheus]=prometheus [amtool]=prometheus-alertmanager
    [prometheus-alertmanager]=prometheus-alertmanager [prometheus-nginx-exporter]=prometheus-nginx-exporter
    [shellcheck]=shellcheck [htpasswd]=apache2-utils [wrk]=wrk
    [chromium]=chromium [chromedriver]=chromium-driver [busybox]=busybox-static
    [nix-instantiate]=nix-bin
)

commands=(openssl curl make git)
# What tests/harness/loopback.py runs as host processes beside nginx.
loopback=(prometheus prometheus-alertmanager prometheus-nginx-exporter)
case $what in
    start) ;;
    test) commands+=(jq python3 nginx promtool amtool shellcheck htpasswd chromium chromedriver busybox
        "${loopback[@]}") ;;
    ci) commands+=(jq python3 nginx promtool amtool shellcheck htpasswd chromium chromedriver busybox
        "${loopback[@]}" nix-instantiate wrk) ;;
    *) echo "prerequisites.sh: unknown entry point '$what' (start, test or ci)" >&2; exit 2 ;;
esac
# The offline image path builds a Debian rootfs (scripts/offline-images.sh).
# CI has no registry; elsewhere the path is known once forced or decided (build/stack-mode).
offline=0
[[ ${OFFLINE:-auto} =~ ^(1|true|yes)$ || $(cat build/stack-mode 2>/dev/null) == offline || $what == ci ]] && offline=1
[[ $offline == 1 ]] && commands+=(debootstrap)
# Compose v2 (`docker compose`), the CLI plugin. Bookworm's own docker-compose
# package is the end-of-life Python v1, so on Debian the plugin comes from the
# next release's package (install_compose below); docker.com's repository or
# Docker Desktop ship it elsewhere.
compose_plugin=/usr/local/lib/docker/cli-plugins/docker-compose
compose_suite=${COMPOSE_SUITE:-trixie}

# Installs Compose v2 from Debian $compose_suite's docker-compose package (a
# static Go binary) as a CLI plugin, leaving the system's apt sources and
# packages alone: a private package list in a scratch directory, apt's own
# signature and checksum checks, and the one binary copied out of the .deb.
install_compose() {
    local scratch mirror
    scratch=$(mktemp -d)
    mirror=${MIRROR:-http://deb.debian.org/debian}
    mkdir -p "$scratch"/lists/partial "$scratch"/cache/archives/partial
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $compose_suite main" \
        >"$scratch/sources.list"
    local apt=(-o Dir::Etc::SourceList="$scratch/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$scratch/lists" -o Dir::Cache="$scratch/cache" -o Debug::NoLocking=1
        -o APT::Sandbox::User=root)
    echo "prerequisites: installing Compose v2 from Debian $compose_suite's docker-compose package into $compose_plugin"
    apt-get "${apt[@]}" update -qq &&
        (cd "$scratch" && apt-get "${apt[@]}" download -qq docker-compose) &&
        dpkg-deb -x "$scratch"/docker-compose_*.deb "$scratch/root" &&
        install -D -m 0755 "$scratch/root/usr/libexec/docker/cli-plugins/docker-compose" "$compose_plugin"
    local rc=$?
    rm -rf "$scratch"
    return $rc
}

missing_packages() {
    local c
    for c in "${commands[@]}"; do
        command -v "$c" >/dev/null 2>&1 || echo "${package[$c]}"
    done
    # `python3 -m venv` needs Debian's python3-venv (the suites install their tools in a venv).
    if [[ $what != start ]] && command -v python3 >/dev/null && ! python3 -c 'import ensurepip' 2>/dev/null; then
        echo python3-venv
    fi
    stream_module_missing && echo libnginx-mod-stream
}

# The gateway's TCP front needs nginx's stream module, which Debian packages apart from nginx
# (nginx/stream-module.sh names it where it is a dynamic module). No nginx yet: the one
# apt-get is about to install is Debian's, so the module goes with it.
stream_module_missing() {
    [[ $what != start ]] || return 1
    command -v nginx >/dev/null || return 0
    local module
    module=$(NGINX_BIN=nginx sh nginx/stream-module.sh)
    [[ -n $module && ! -e $module ]]
}

if [[ $install == 1 ]]; then
    mapfile -t wanted < <(missing_packages | sort -u)
    if ((${#wanted[@]})); then
        if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
            echo "prerequisites: cannot install ${wanted[*]} (needs root and apt-get); install them and rerun" >&2
            exit 1
        fi
        echo "prerequisites: installing ${wanted[*]}"
        guard=0
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            guard=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates "${wanted[@]}" >/dev/null
        [[ $guard == 1 ]] && rm -f /usr/sbin/policy-rc.d
    fi
    if ! docker compose version >/dev/null 2>&1 && command -v docker >/dev/null && command -v apt-get >/dev/null &&
        [[ $(id -u) == 0 ]]; then
        install_compose || echo "prerequisites: could not install Compose v2 from Debian $compose_suite" >&2
    fi
fi

problems=()
for c in "${commands[@]}"; do
    command -v "$c" >/dev/null 2>&1 || problems+=("$c is missing: apt-get install ${package[$c]}")
done
if [[ $what != start ]] && command -v python3 >/dev/null && ! python3 -c 'import ensurepip' 2>/dev/null; then
    problems+=("python3's venv module is missing: apt-get install python3-venv")
fi
stream_module_missing && problems+=("nginx's stream module is missing: apt-get install libnginx-mod-stream")
command -v cargo >/dev/null 2>&1 ||
    problems+=("cargo is missing: install the Rust toolchain (1.88 or newer) with rustup, https://rustup.rs")
if ! command -v docker >/dev/null 2>&1; then
    problems+=("docker is missing: install Docker Engine (Debian: apt-get install docker.io)")
elif ! docker info >/dev/null 2>&1; then
    problems+=("the Docker daemon does not answer (is it running, and may this user use it?)")
elif ! docker compose version >/dev/null 2>&1; then
    problems+=("Compose v2 (docker compose) is missing: rerun this as root on Debian, which installs it from $compose_suite's docker-compose package, or install Docker's docker-compose-plugin")
fi
if [[ $offline == 1 && $(id -u) != 0 ]]; then
    problems+=("the offline image path runs debootstrap, which needs root: run as root, or OFFLINE=0 where a registry answers")
fi

if ((${#problems[@]})); then
    for p in "${problems[@]}"; do
        echo "prerequisites ($what): $p" >&2
    done
    exit 1
fi
echo "prerequisites ($what): all present"
