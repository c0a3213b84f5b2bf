# `nix develop`: the pinned Rust toolchain plus what the repository's scripts and checks call.
{ pkgs, rust }:
rust.craneLib.devShell {
  packages = with pkgs; [
    # compose path and gateway scripts
    docker-compose
    openssl
    apacheHttpd # htpasswd
    nginx
    # monitoring
    prometheus # promtool
    # Nix formatting and lint (nix/check-static.sh installs the same from crates.io)
    nixpkgs-fmt
    deadnix
    # load tests and the e2e suite
    python3
    wrk
    curl
    jq
  ];
}
