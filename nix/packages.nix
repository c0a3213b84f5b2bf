# The Rust workspace built with crane, and the model trained from data/ as a derivation.
#
# 1. The workspace's dependencies are built once (`buildDepsOnly`); every binary, clippy and
#    the tests reuse those artifacts, so editing a crate never rebuilds the dependencies.
# 2. One package per binary, so that an image or a NixOS service pulls in only its own.
# 3. The model is a derivation: the same data and the same `emotion-train` give the same
#    artifact (its version is derived from its content), built once and shared by the
#    OCI image path, the NixOS module and the VM test.
{ pkgs, crane, rust-overlay, root }:
let
  inherit (pkgs) lib;

  # nixos-25.05's rustc is 1.86; Cargo.lock's dependencies need 1.88 (icu_*, proptest; see
  # `cargo metadata` rust_version). 1.91.1 is the newest stable in the pinned rust-overlay;
  # the default profile brings clippy and rustfmt of the same release.
  rustToolchain = p: (rust-overlay.lib.mkRustBin { } p).stable."1.91.1".default;
  craneLib = (crane.mkLib pkgs).overrideToolchain rustToolchain;

  # Only what cargo reads, so that editing nginx/, monitoring/ or nix/ rebuilds no Rust.
  cargoFiles = [
    (root + "/Cargo.toml")
    (root + "/Cargo.lock")
    (root + "/crates")
  ];
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions cargoFiles;
  };
  # Tests also read the training data (data/ is never part of a binary).
  testSrc = lib.fileset.toSource {
    inherit root;
    # json-errors.conf: emotion-api checks that nginx uses its error vocabulary.
    fileset = lib.fileset.unions (cargoFiles ++ [ (root + "/data") (root + "/nginx/conf/json-errors.conf") ]);
  };

  commonArgs = {
    inherit src;
    pname = "emotion-gateway";
    inherit ((lib.importTOML (root + "/Cargo.toml")).workspace.package) version;
    strictDeps = true;
    # Cargo.lock is the source of truth for versions; never re-resolve in the sandbox.
    cargoExtraArgs = "--locked";
  };

  cargoArtifacts = craneLib.buildDepsOnly commonArgs;

  # One binary of one workspace crate; the tests run once, in the `tests` check.
  binary = { pname, crate, description }: craneLib.buildPackage (commonArgs // {
    inherit pname cargoArtifacts;
    cargoExtraArgs = "--locked --package ${crate} --bin ${pname}";
    doCheck = false;
    meta = {
      inherit description;
      mainProgram = pname;
      license = lib.licenses.asl20;
    };
  });

  emotion-train = binary {
    pname = "emotion-train";
    crate = "emotion-model";
    description = "Trains the emotion classifier (logistic regression or naive Bayes) from a CSV of labelled texts";
  };

  # One trained artifact; `flags` are emotion-train's model options (scripts/train.sh).
  trainModel = name: flags: pkgs.runCommand name
    {
      nativeBuildInputs = [ emotion-train ];
      data = root + "/data/tweet_emotions.csv";
    } ''
    emotion-train --data "$data" --out "$out" ${lib.escapeShellArgs flags}
    test -s "$out/emotion-model.bin"
  '';
in
{
  inherit craneLib commonArgs cargoArtifacts src testSrc emotion-train;

  emotion-api = binary {
    pname = "emotion-api";
    crate = "emotion-api";
    description = "HTTP API serving the emotion classifier (variant v1 or v2/debug)";
  };

  access-log-exporter = binary {
    pname = "access-log-exporter";
    crate = "access-log-exporter";
    description = "Turns Nginx's syslog access log into per-variant Prometheus metrics";
  };

  alert-receiver = binary {
    pname = "alert-receiver";
    crate = "alert-receiver";
    description = "Alertmanager webhook receiver: logs each alert as a JSON line and keeps the last ones";
  };

  # The trained artifacts: $out/emotion-model.bin, MODEL_CARD.md and metrics.json. The
  # champion is emotion-train's default; the challenger (naive Bayes, the same features) is
  # what scripts/train.sh writes to model/challenger/, for experiments on v2.
  model = trainModel "emotion-model" [ ];
  model-challenger = trainModel "emotion-model-challenger" [ "--model" "nb" ];
}
