"""One request at a time from the host through the published ports, and raw bytes for malformed ones.

Load comes from client containers (clients.py); single probes need no address of their own, and
going through the published port is exactly what a user does.
"""

import base64
import json
import socket
import ssl


def _tls(host, port, timeout):
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    return tls.wrap_socket(socket.create_connection((host, int(port)), timeout=timeout), server_hostname="localhost")


class Answer:
    """Status, headers (lower-case names, repeated ones joined by ', ') and body of one response."""

    def __init__(self, raw):
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        first = lines[0].split(" ", 2)
        self.status = int(first[1]) if len(first) > 1 and first[1].isdigit() else 0
        self.headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                k = k.strip().lower()
                self.headers[k] = f"{self.headers[k]}, {v.strip()}" if k in self.headers else v.strip()
        if self.headers.get("transfer-encoding") == "chunked":
            self.body = _unchunk(self.body)

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def error_code(self):
        doc = self.json()
        err = doc.get("error") if isinstance(doc, dict) else None
        return err.get("code") if isinstance(err, dict) and err.get("message") else None

    def __repr__(self):
        return f"<{self.status} {self.body[:100]!r}>"


def _unchunk(data):
    out = b""
    while data:
        size, _, rest = data.partition(b"\r\n")
        n = int(size.split(b";")[0] or b"0", 16)
        if n == 0:
            break
        out, data = out + rest[:n], rest[n + 2 :]
    return out


def raw(port, payload, tls=True, host="127.0.0.1", timeout=15):
    """Send `payload` bytes as they are, read until the server closes (or times out)."""
    s = _tls(host, port, timeout) if tls else socket.create_connection((host, int(port)), timeout=timeout)
    data = b""
    try:
        s.sendall(payload)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, OSError):
        pass
    finally:
        s.close()
    return Answer(data)


def request(port, method, path, headers=(), body=None, auth=None, tls=True, host_header="localhost"):
    """A well-formed HTTP/1.1 request with Connection: close; `headers` is a list of (name, value)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host_header}", "Connection: close"]
    if auth:
        lines.append("Authorization: Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    data = b""
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data, tls=tls)
