"""Change the running gateway's configuration inside its container, reload, and undo.

The change goes into the rendered `params/logging.conf` (http context, written at container start,
so it is the container's own copy, never the repository's files): a `map` defining an unused
variable. It is a real configuration change that Nginx parses and loads, with no effect on traffic.
"""

import re
import time

from .stack import sh

MARK = "# resilience-reload"


def params_file(ctx, name="logging.conf"):
    """Absolute path of a rendered params file, from `nginx -T`'s file banners."""
    conf = ctx.rendered_config()
    for path in re.findall(r"^# configuration file (\S+):$", conf, re.M):
        if path.endswith("params/" + name):
            return path
    raise RuntimeError(f"params/{name} not found in nginx -T output")


def master_pid(ctx):
    """Host pid of the Nginx master (the container's init or its child named nginx)."""
    ctx.refresh()
    pid = ctx.nginx.pid
    out = sh(["ps", "-o", "pid=,args=", "--ppid", str(pid)], check=False).stdout
    me = sh(["ps", "-o", "args=", "-p", str(pid)], check=False).stdout
    if "master process" in me:
        return pid
    for line in out.splitlines():
        p, _, args = line.strip().partition(" ")
        if "master process" in args:
            return int(p)
    return pid


def worker_pids(ctx):
    out = sh(["ps", "-o", "pid=,args=", "--ppid", str(master_pid(ctx))], check=False).stdout
    return sorted(int(line.split()[0]) for line in out.splitlines() if "worker process" in line)


def change_and_reload(ctx, note):
    path = params_file(ctx)
    n = int(time.time() * 1000) % 10**9
    line = f'{MARK} {note}\nmap $msec $resilience_reload_{n} {{ default "{n}"; }}\n'
    sh(["docker", "exec", "-i", ctx.nginx.id, "sh", "-c", f"cat >> {path}"], input=line)
    ctx.nginx_exec("nginx", "-t")
    ctx.nginx_exec("nginx", "-s", "reload")
    return path


def restore_and_reload(ctx):
    path = params_file(ctx)
    text = ctx.nginx_exec("cat", path).stdout
    if MARK not in text:
        return
    kept = text.split(MARK, 1)[0]
    sh(["docker", "exec", "-i", ctx.nginx.id, "sh", "-c", f"cat > {path}"], input=kept)
    ctx.nginx_exec("nginx", "-s", "reload")
