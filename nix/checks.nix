# `nix flake check`: the Rust checks (reusing the dependency artifacts), every package, and one
# check per file in nix/tests/ (a NixOS VM test each), harmonia-style.
{ self, pkgs, rust }:
let
  inherit (pkgs) lib;
  inherit (rust) craneLib commonArgs cargoArtifacts;

  vmTests = lib.mapAttrs'
    (file: _: lib.nameValuePair
      "vm-${lib.removeSuffix ".nix" file}"
      (import (./tests + "/${file}") { inherit self pkgs; }))
    (lib.filterAttrs (file: type: type == "regular" && lib.hasSuffix ".nix" file)
      (builtins.readDir ./tests));
in
{
  inherit (rust) emotion-train emotion-api access-log-exporter model;

  # The same gate as .ci/run: every target, warnings are errors.
  clippy = craneLib.cargoClippy (commonArgs // {
    inherit cargoArtifacts;
    cargoClippyExtraArgs = "--workspace --all-targets -- --deny warnings";
  });

  fmt = craneLib.cargoFmt { inherit (commonArgs) src pname version; };

  tests = craneLib.cargoTest (commonArgs // {
    inherit cargoArtifacts;
    src = rust.testSrc;
    cargoTestExtraArgs = "--workspace";
  });
} // vmTests
