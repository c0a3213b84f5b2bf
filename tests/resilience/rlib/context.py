"""What every resilience test needs: the stack, credentials, gateway addresses and limits, load runs."""

import os
import re
import threading
import time

from . import clients
from .stack import Stack, credentials, sh


class Context:
    """Resolved once per suite run; tests read it and never guess addresses themselves."""

    def __init__(self, report):
        self.report = report
        self.stack = Stack()
        self.auth = credentials()
        self.network = self.stack.frontend_network()
        self.refresh()
        # Client containers fall back to the gateway's image (it has /bin/sleep) without busybox.
        os.environ.setdefault("RESIL_CLIENT_IMAGE", self.nginx.image)
        self.rate, self.burst = self.rate_limit()

    def refresh(self):
        """Re-read addresses (a container restarted by a test may come back on another IP)."""
        self.nginx = self.stack.one("nginx")
        self.gateway_ip = self.nginx.networks.get(self.network) or self.nginx.ip()
        # Host-side addresses: the published ports, whatever HTTPS_PORT/PROMETHEUS_PORT were.
        self.host_port = os.environ.get("RESIL_GATEWAY_PORT") or self.published(self.nginx, "443/tcp") or "443"
        prom = self.stack.containers("prometheus")
        port = self.published(prom[0], "9090/tcp") if prom else ""
        self.prometheus = os.environ.get("RESIL_PROMETHEUS_URL") or f"http://127.0.0.1:{port or 9090}"

    @staticmethod
    def published(container, port):
        bindings = (container.raw["NetworkSettings"].get("Ports") or {}).get(port) or []
        return bindings[0]["HostPort"] if bindings else ""

    def nginx_exec(self, *cmd, check=True):
        return sh(["docker", "exec", self.nginx.id, *cmd], check=check)

    def rendered_config(self):
        """`nginx -T` inside the gateway: the configuration as the running master would load it."""
        return self.nginx_exec("nginx", "-T").stdout

    def rate_limit(self):
        """(rate r/s, burst) of the /predict zone, from the rendered configuration."""
        conf = self.rendered_config()
        m = re.search(r"limit_req_zone\s+\$predict_rate_limit_key\s+[^;]*rate=(\d+)r/s", conf) or re.search(
            r"limit_req_zone[^;]*rate=(\d+)r/s", conf
        )
        rate = float(m.group(1)) if m else 10.0
        b = re.search(r"limit_req\s+zone=\S+\s+burst=(\d+)", conf)
        return rate, int(b.group(1)) if b else 0

    def v1(self):
        return self.stack.containers("api-v1")

    def v2(self):
        return self.stack.containers("api-v2")

    def under_load(
        self,
        action,
        clients_n=3,
        rate=None,
        duration=30,
        warmup=5,
        headers_per_client=None,
        path="/predict",
        tag="c",
        keepalive=True,
    ):
        """Run paced load from `clients_n` addresses, call `action()` after `warmup` seconds.

        Returns (merged totals, per-client results, action's return value). Each client stays at
        half its per-address budget, so any non-200 is the stack's doing, not the limiter's.
        """
        rate = rate or max(1.0, self.rate / 2)
        box = {}
        with clients.ClientPool(self.network, clients_n, tag) as pool:
            procs = []
            for i, c in enumerate(pool):
                hdrs = (headers_per_client or {}).get(i, [])
                procs.append(
                    clients.start_load(
                        c,
                        self.gateway_ip,
                        self.auth,
                        f"{tag}{i}",
                        rate=rate,
                        duration=duration,
                        threads=max(4, int(rate)),
                        header=hdrs,
                        path=path,
                        keepalive=keepalive,
                    )
                )
            time.sleep(warmup)

            def run():
                try:
                    box["value"] = action()
                except Exception as e:  # reported by the caller as a failed check
                    box["error"] = e

            t = threading.Thread(target=run)
            t.start()
            results = clients.collect(procs)
            t.join(600)
        if "error" in box:
            raise box["error"]
        return clients.merge(results), results, box.get("value")
