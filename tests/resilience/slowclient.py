#!/usr/bin/env python3
"""Slow and oversized clients: how long does the gateway let each connection live, and what does it say?

Modes (one client address per process, like loadgen.py):
  headers  slowloris: send a request line, then one header line every --interval s, never finishing;
  body     complete headers with Content-Length, then the body's first bytes and silence;
  bigheader / manyheaders / bigbody / chunkedbody: one oversized request each, read the answer.
Prints JSON: per connection, seconds until the server closed it (or None if still open --max s after
its handshake; `refused` when it was closed before the handshake ended), and for the oversized modes
the status line and body.
"""

import argparse
import base64
import json
import os
import socket
import ssl
import threading
import time


def tls_context():
    # One context for every connection of the process, and no trust store: the gateway's
    # certificate is self-signed and its identity is checked elsewhere. A default context per
    # connection loaded the system's CA bundle each time, about 20 ms of CPU: 6 s for 300
    # connections, on a 2-core machine, in the seconds this test measures.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


TLS = tls_context()


def connect(args):
    s = socket.create_connection((args.host, args.port), timeout=args.max + 5)
    return TLS.wrap_socket(s, server_hostname=args.sni)


def auth_header():
    cred = os.environ.get("RESIL_BASIC_AUTH", "")
    return f"Authorization: Basic {base64.b64encode(cred.encode()).decode()}\r\n" if cred else ""


def slow(args, mode, results, i):
    # `closed_after` is measured from where Nginx's timer starts, not from this thread's start:
    # client_header_timeout runs from the connection (after the TLS handshake, which for the
    # hundredth handshake of a busy machine can come seconds late), client_body_timeout from
    # the last byte received (with --trickle, from the end of the headers: what is measured
    # there is how long Nginx lets a trickled body run in all).
    t_ref = time.time()
    try:
        s = connect(args)
    except OSError as e:
        # Closed before the handshake ended: the TCP front refusing a connection over the
        # per-address cap (nginx/sites/tls-front.conf), not a timeout at work.
        results[i] = {"closed_after": round(time.time() - t_ref, 2), "refused": type(e).__name__}
        return
    t_ref = time.time()
    try:
        if mode == "headers":
            s.sendall(f"POST /predict HTTP/1.1\r\nHost: {args.sni}\r\n".encode())
        else:
            s.sendall(
                (
                    f"POST /predict HTTP/1.1\r\nHost: {args.sni}\r\n{auth_header()}"
                    'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"sentence": "'
                ).encode()
            )
            t_ref = time.time()
        s.settimeout(args.interval)
        n = 0
        # Each connection is watched for --max s from where nginx's timer starts, however late
        # its handshake came.
        while time.time() - t_ref < args.max:
            try:
                data = s.recv(4096)
                if not data:
                    break  # server closed
                results[i] = {"closed_after": None, "answer": data.split(b"\r\n", 1)[0].decode(errors="replace")}
                # An answer (e.g. 408) is followed by the close; keep reading until it comes.
                continue
            except TimeoutError:
                pass
            n += 1
            try:
                if mode == "headers":
                    s.sendall(f"X-Slow-{n}: {n}\r\n".encode())
                elif args.trickle:
                    s.sendall(b"a")
            except OSError:
                break
        else:
            results[i] = {**(results[i] or {}), "closed_after": None, "still_open": True}
            s.close()
            return
        s.close()
        results[i] = {**(results[i] or {}), "closed_after": round(time.time() - t_ref, 2)}
    except OSError as e:
        results[i] = {"closed_after": round(time.time() - t_ref, 2), "error": type(e).__name__}


def oversized(args, mode):
    s = connect(args)
    head = f"POST /predict HTTP/1.1\r\nHost: {args.sni}\r\n{auth_header()}Content-Type: application/json\r\n"
    body = b""
    if mode == "bigheader":
        head += "X-Big: " + "a" * 16384 + "\r\n"
    elif mode == "manyheaders":
        head += "".join(f"X-Many-{i}: {'b' * 4000}\r\n" for i in range(20))
    if mode in ("bigheader", "manyheaders"):
        body = b'{"sentence":"hello"}'
        req = (head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    elif mode == "bigbody":
        body = b'{"sentence":"' + b"x" * 200_000 + b'"}'
        req = (head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    else:  # chunkedbody: no Content-Length, so only counting the received bytes can stop it
        chunk = b"x" * 8192
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(25))
        req = (
            (head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
            + b'10\r\n{"sentence":"xx"\r\n'
            + chunks
            + b"0\r\n\r\n"
        )
    t0 = time.time()
    try:
        s.sendall(req)
    except OSError:
        pass  # the server may answer and close before reading it all; read what it said
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    return {"status": status, "body": body[:300].decode(errors="replace"), "seconds": round(time.time() - t0, 2)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--sni", default="localhost")
    p.add_argument("--mode", required=True)
    p.add_argument("--conns", type=int, default=50)
    p.add_argument("--interval", type=float, default=3.0)
    p.add_argument("--trickle", action="store_true", help="body mode: send a byte every interval")
    p.add_argument("--max", type=float, default=40.0)
    args = p.parse_args()
    if args.conns > 1000 or args.max > 300:
        raise SystemExit("slowclient: conns <= 1000, max <= 300 s")
    if args.mode in ("headers", "body"):
        results = [None] * args.conns
        threads = [threading.Thread(target=slow, args=(args, args.mode, results, i)) for i in range(args.conns)]
        for t in threads:
            t.start()
            time.sleep(0.01)
        for t in threads:
            t.join(args.max + 30)
        print(json.dumps({"mode": args.mode, "connections": results}))
    else:
        print(json.dumps({"mode": args.mode, **oversized(args, args.mode)}))


if __name__ == "__main__":
    main()
