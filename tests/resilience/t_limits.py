"""Per-address rate limits: several clients at once each get their own budget; brute force meets 429.

The expected number of admitted requests for one address over D seconds at an arrival rate above the
limit is burst + 1 + rate * D (Nginx's leaky bucket with `burst=B nodelay`: the first B + 1 pass at
once, then one every 1/rate seconds). Rate and burst are read from the running configuration.
"""

from rlib import clients


def _expected(ctx, duration):
    return ctx.burst + 1 + ctx.rate * duration


def test_per_ip_limits(ctx, rep):
    n, duration = 4, 10.0
    offered = 3 * ctx.rate
    with clients.ClientPool(ctx.network, n, "lim") as pool:
        procs = [
            clients.start_load(c, ctx.gateway_ip, ctx.auth, f"lim{i}", rate=offered, duration=duration, threads=8)
            for i, c in enumerate(pool)
        ]
        results = clients.collect(procs)
        ips = [c.ip for c in pool]
    exp = _expected(ctx, duration)
    admitted = []
    for r, ip in zip(results, ips, strict=True):
        ok, limited = r["status"].get("200", 0), r["status"].get("429", 0)
        other = {k: v for k, v in r["status"].items() if k not in ("200", "429")}
        admitted.append(ok)
        rep.check(
            f"per-ip-limit: client {ip} gets its own budget",
            abs(ok - exp) <= 0.1 * exp and limited > 0 and not other and not r["errors"],
            f"offered {r['sent']} at {offered:.0f}/s for {duration:.0f}s: 200={ok} 429={limited} "
            f"other={other} errors={r['errors']}; expected 200 = burst {ctx.burst} + 1 + "
            f"{ctx.rate:.0f}/s x {duration:.0f}s = {exp:.0f} (+-10%)",
        )
    tot, exp_tot = sum(admitted), exp * n
    rep.check(
        f"per-ip-limit: admitted total of {n} simultaneous clients matches the configured rate",
        abs(tot - exp_tot) <= 0.1 * exp_tot,
        f"admitted {tot} vs expected {exp_tot:.0f} ({n} x {exp:.0f}); deviation "
        f"{100 * (tot - exp_tot) / exp_tot:+.1f}%",
    )


def test_bruteforce(ctx, rep):
    """Wrong passwords as fast as a client may: the limiter (preaccess phase) acts before auth."""
    duration, offered = 5.0, 4 * ctx.rate
    with clients.ClientPool(ctx.network, 1, "brute") as pool:
        wrong = (ctx.auth[0], "not-the-password")
        p = clients.start_load(pool[0], ctx.gateway_ip, wrong, "brute", rate=offered, duration=duration, threads=8)
        r = clients.collect([p])[0]
    s = r["status"]
    exp = _expected(ctx, duration)
    rep.check(
        "auth-bruteforce: password guessing is rate-limited (429s appear, nothing admitted)",
        s.get("429", 0) > 0 and s.get("200", 0) == 0 and s.get("401", 0) <= 1.1 * exp,
        f"{r['sent']} guesses at {offered:.0f}/s: 401={s.get('401', 0)} (at most ~{exp:.0f} reach "
        f"the password check) 429={s.get('429', 0)} 200={s.get('200', 0)} errors={r['errors']}",
    )
