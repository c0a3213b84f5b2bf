# The whole deployment in four VMs, checked by the same suite as compose (tests/e2e/run.py).
#
#   client ──https──▶ gateway (nginx, access-log-exporter, nginx exporter)
#                        │ upstreams by IP
#                        ▼
#                     api (3 × v1, 1 × v2; ports open to the gateway and monitoring only)
#                        ▲ scrape
#                     monitoring (Prometheus, Grafana)
#
# 1. Secrets are made at boot, outside the store, the way an operator would provision them:
#    a certificate for the name `gateway` (its own trust anchor, like scripts/certs.sh) and
#    the htpasswd file from scripts/credentials.sh. The password is a test-only constant. The
#    API node makes the feedback receipt key its four instances share.
# 2. The client gets a second address, so the suite's per-client rate-limit check can send
#    from "another client" with curl --interface.
# 3. The suite also checks that the API ports are NOT reachable from the client, and, given
#    --prometheus-url, the monitoring checks against the monitoring node.
{ self, pkgs }:
let
  inherit (pkgs) lib;
  root = ../..;
  user = "tester";
  password = "vm-test-only-password";
  secondClientAddress = "192.168.1.200"; # the test network is 192.168.1.0/24
  secrets = "/var/lib/emotion-secrets";

  # The suite and the repository files its checks read (repo_root is two levels up).
  suite = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [ (root + "/tests/e2e") (root + "/monitoring") (root + "/nginx/render-params.sh") ];
  };

  apiPorts = { v1-a = 8001; v1-b = 8002; v1-c = 8003; v2 = 8004; };
  metricsPort = name: apiPorts.${name} + 1100; # 9101 … 9104
  v1Names = [ "v1-a" "v1-b" "v1-c" ];

  oneshot = script: {
    serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
    path = [ pkgs.openssl pkgs.bash pkgs.coreutils pkgs.python3 ];
    inherit script;
  };
in
pkgs.testers.runNixOSTest {
  name = "emotion-gateway";

  defaults.virtualisation.memorySize = 1024;

  nodes = {
    api = { nodes, ... }: {
      imports = [ self.nixosModules.emotion-api ];
      services.emotion-api = {
        enable = true;
        instances = lib.mapAttrs
          (name: port: {
            inherit port;
            metricsPort = metricsPort name;
            variant = if name == "v2" then "v2" else "v1";
          })
          apiPorts;
        trustedProxies = [ "${nodes.gateway.networking.primaryIPAddress}/32" ];
        feedbackKeyFile = "${secrets}/feedback.key";
      };
      systemd.services.api-secrets = oneshot ''
        mkdir -p ${secrets}
        (umask 077; openssl rand -hex 32 > ${secrets}/feedback.key)
      '' // {
        wantedBy = [ "emotion-api.target" ];
        before = map (name: "emotion-api-${name}.service") (lib.attrNames apiPorts);
      };
      # Only the gateway reaches the APIs and only Prometheus their metrics, as on compose's
      # internal network.
      networking.firewall.extraCommands = ''
        iptables -A nixos-fw -p tcp -s ${nodes.gateway.networking.primaryIPAddress} --dport 8001:8004 -j nixos-fw-accept
        iptables -A nixos-fw -p tcp -s ${nodes.monitoring.networking.primaryIPAddress} --dport 9101:9104 -j nixos-fw-accept
      '';
    };

    gateway = { nodes, ... }:
      let apiAddress = nodes.api.networking.primaryIPAddress; in
      {
        imports = [ self.nixosModules.gateway ];
        services.emotion-gateway = {
          enable = true;
          # By address: `api` also resolves to IPv6 here, which would double every peer.
          upstreams.v1 = map (name: "${apiAddress}:${toString apiPorts.${name}}") v1Names;
          upstreams.v2 = [ "${apiAddress}:${toString apiPorts.v2}" ];
          # The name the client uses; the port-80 redirect points here, never at the Host header.
          serverName = "gateway";
          tlsCertificate = "${secrets}/tls.crt";
          tlsCertificateKey = "${secrets}/tls.key";
          htpasswdFile = "${secrets}/htpasswd";
          openMetricsFirewall = true;
        };
        systemd.services.gateway-secrets = oneshot ''
          mkdir -p ${secrets}
          openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout ${secrets}/tls.key -out ${secrets}/tls.crt -days 2 -subj /CN=gateway \
            -addext subjectAltName=DNS:gateway \
            -addext basicConstraints=critical,CA:TRUE,pathlen:0 \
            -addext keyUsage=critical,digitalSignature,keyCertSign \
            -addext extendedKeyUsage=serverAuth
          GATEWAY_USER=${user} GATEWAY_PASSWORD=${password} bash ${root + "/scripts/credentials.sh"} ${secrets}
        '' // {
          wantedBy = [ "nginx.service" ];
          before = [ "nginx.service" ];
        };
      };

    monitoring = { ... }: {
      imports = [ self.nixosModules.monitoring ];
      services.emotion-monitoring = {
        enable = true;
        targets = {
          nginx = [ "gateway:9113" ];
          gateway-log = [ "gateway:9114" ];
          api-v1 = map (name: "api:${toString (metricsPort name)}") v1Names;
          api-v2 = [ "api:${toString (metricsPort "v2")}" ];
        };
        grafana = {
          adminPasswordFile = "${secrets}/grafana-admin";
          secretKeyFile = "${secrets}/grafana-key";
        };
        openFirewall = true;
      };
      environment.systemPackages = [ pkgs.jq ];
      systemd.services.grafana-secrets = oneshot ''
        mkdir -p ${secrets}
        openssl rand -hex 16 > ${secrets}/grafana-admin
        openssl rand -hex 32 > ${secrets}/grafana-key
      '' // {
        wantedBy = [ "grafana.service" ];
        before = [ "grafana.service" ];
      };
    };

    client = { ... }: {
      environment.systemPackages = [ pkgs.python3 ];
    };
  };

  testScript = ''
    import shlex

    start_all()

    with subtest("every API instance starts and answers on its own port"):
        api.wait_for_unit("emotion-api.target")
        for port in (${lib.concatMapStringsSep ", " toString (lib.attrValues apiPorts)}):
            api.wait_until_succeeds(f"curl -fsS http://127.0.0.1:{port}/health/ready", timeout=120)
        api.succeed("curl -fsS http://127.0.0.1:${toString apiPorts.v2}/health/ready -D - | grep -i '^x-model-variant: v2'")

    with subtest("the gateway serves TLS with the provisioned secrets"):
        gateway.wait_for_unit("gateway-secrets.service")
        gateway.wait_for_unit("nginx.service")
        gateway.wait_for_unit("access-log-exporter.service")
        gateway.wait_for_unit("prometheus-nginx-exporter.service")
        gateway.wait_for_open_port(443)

    with subtest("the client trusts the gateway's certificate"):
        ca = gateway.succeed("cat ${secrets}/tls.crt")
        client.succeed(f"printf '%s' {shlex.quote(ca)} > /tmp/ca.crt")
        client.wait_until_succeeds("curl -fsS --cacert /tmp/ca.crt https://gateway/health/ready", timeout=120)

    with subtest("monitoring scrapes every target"):
        monitoring.wait_for_unit("prometheus.service")
        monitoring.wait_for_open_port(9090)
        # prometheus, nginx, gateway-log, 3 × api-v1, api-v2
        monitoring.wait_until_succeeds(
            "curl -fsS http://127.0.0.1:9090/api/v1/targets"
            " | jq -e '[.data.activeTargets[].health] | length == 7 and all(. == \"up\")'",
            timeout=180,
        )
        monitoring.wait_for_unit("grafana.service")
        monitoring.wait_until_succeeds("curl -fsS http://127.0.0.1:3000/api/health", timeout=120)

    with subtest("the end-to-end suite passes against the gateway"):
        # Added now, as a secondary address, so that the suite's own requests keep the primary.
        client.succeed("ip addr add ${secondClientAddress}/24 dev eth1")
        second = (
            "for i in 1 2 3; do curl -s -o /dev/null -w '%{http_code}\\n' --interface ${secondClientAddress}"
            " --cacert /tmp/ca.crt -u \"$E2E_USER:$E2E_PASSWORD\" -H 'Content-Type: application/json'"
            " -d '{\"sentence\": \"a second client\"}' https://gateway/predict; done"
        )
        api_addrs = " ".join(f"--api-addr api:{port}" for port in (${lib.concatMapStringsSep ", " toString (lib.attrValues apiPorts)}))
        print(client.succeed(
            "python3 ${suite}/tests/e2e/run.py"
            " --base-url https://gateway --http-url http://gateway --cacert /tmp/ca.crt"
            " --user ${user} --password ${password}"
            f" --second-client-cmd {shlex.quote(second)} {api_addrs}"
            " --prometheus-url http://monitoring:9090"
        ))

    # The suite's own failover check needs hooks that stop a replica from the client; here the
    # driver stops one directly.
    with subtest("a stopped v1 instance is skipped, then rejoins"):
        hit = (
            "curl -sS -o /dev/null -w '%{http_code} %header{x-instance}\\n' --cacert /tmp/ca.crt"
            " -u ${user}:${password} -H 'Content-Type: application/json'"
            " -d '{\"sentence\": \"failover\"}' https://gateway/predict"
        )
        api.succeed("systemctl stop emotion-api-v1-b.service")
        client.succeed("sleep 3")  # let the rate-limit bucket refill after the suite
        seen = client.succeed(f"for i in $(seq 12); do {hit}; done").split("\n")
        answers = [line for line in seen if line]
        assert len(answers) == 12 and all(a.startswith("200 ") for a in answers), answers
        assert not any(a.endswith("-v1-b") for a in answers), answers
        api.succeed("systemctl start emotion-api-v1-b.service")
        client.wait_until_succeeds(f"for i in $(seq 6); do {hit}; sleep 0.5; done | grep -q -- '-v1-b$'", timeout=90)
  '';
}
