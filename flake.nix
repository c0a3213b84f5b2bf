{
  description = "Emotion gateway: a Rust emotion classifier behind an Nginx API gateway, with Prometheus and Grafana";

  inputs = {
    # A release branch rather than unstable, so that older Nix versions can still evaluate it.
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    # crane 0.21.x supports nixpkgs 25.05 (0.22.0 dropped it); it has no inputs of its own.
    crane.url = "github:ipetkov/crane/v0.21.3";
    # nixos-25.05 ships rustc 1.86, but Cargo.lock needs 1.88 or newer: the toolchain comes
    # from here instead (nix/packages.nix names the version).
    rust-overlay = {
      url = "github:oxalica/rust-overlay";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { self, nixpkgs, crane, rust-overlay }:
    let
      inherit (nixpkgs) lib;

      # The VM test and the OCI images are Linux-only, and so is the deployment.
      systems = [ "x86_64-linux" "aarch64-linux" ];
      # Everything per system is built once here; the outputs below only pick from it.
      build = lib.genAttrs systems (system:
        let pkgs = nixpkgs.legacyPackages.${system}; in
        rec {
          inherit pkgs;
          rust = import ./nix/packages.nix { inherit pkgs crane rust-overlay; root = ./.; };
          images = import ./nix/images.nix { inherit pkgs rust; root = ./.; };
          start = import ./nix/start.nix { inherit pkgs rust images; };
        });
      eachSystem = f: lib.mapAttrs (_: f) build;
    in
    {
      packages = eachSystem (b: {
        inherit (b.rust) emotion-train emotion-api access-log-exporter alert-receiver model model-challenger;
        inherit (b) start;
        default = b.rust.emotion-api;
      } // b.images.packages);

      apps = eachSystem (b:
        let start = { type = "app"; program = lib.getExe b.start; }; in
        { inherit start; default = start; });

      checks = eachSystem (b: import ./nix/checks.nix { inherit self; inherit (b) pkgs rust; });

      devShells = eachSystem (b: {
        default = import ./nix/devshell.nix { inherit (b) pkgs rust; };
      });

      formatter = eachSystem (b: b.pkgs.nixpkgs-fmt);

      # Each module defaults its package to this flake's build for the host's system.
      nixosModules = {
        emotion-api = import ./nix/modules/emotion-api.nix { inherit self; };
        gateway = import ./nix/modules/gateway.nix { inherit self; root = ./.; };
        monitoring = import ./nix/modules/monitoring.nix { inherit self; root = ./.; };
        default = {
          imports = with self.nixosModules; [ emotion-api gateway monitoring ];
        };
      };
    };
}
