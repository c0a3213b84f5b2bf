"""Hot model rollout: a retrained artifact reaches every replica without a failed request.

A second artifact is trained with another L2 penalty (`--l2 3e-4`, ten times the default), so its
weights, and with them its content-derived version and its answers, differ (checked on the two
files before the rollout: the artifact is a safetensors file, read here with the standard library). Rollout: atomic rename into the mounted model folder (./model, mounted read-only at
/model, so the containers see the new file at once but keep serving the loaded model), then SIGHUP to
each replica in turn; the API swaps the model only after the new one loaded. The original artifact
is put back the same way at the end, so the stack is left as found.
"""

import json
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

from rlib import clients
from rlib.stack import BUILD, REPO, sh
from t_availability import all_ok, instances, worst_latency

ARTIFACT = "emotion-model.bin"
# An unusual L2 penalty for the default (logistic) model, so the weights differ from any default
# training run. (`--alpha` is naive Bayes only: emotion-train refuses it for the logistic model.)
L2 = "3e-4"


def train_binary():
    """emotion-train from the workspace (release build, as the images use)."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    exe = target / "release" / "emotion-train"
    # Always through cargo (a no-op when fresh): a stale binary could write an older artifact format.
    sh(["cargo", "build", "--release", "-p", "emotion-model", "--bin", "emotion-train"], timeout=1200)
    return exe


def second_artifact():
    out = BUILD / f"model-l2-{L2}"
    art = out / ARTIFACT
    exe = train_binary()
    # Retrain whenever the trainer is newer than the cached artifact: the artifact format evolves.
    if not art.exists() or art.stat().st_mtime < exe.stat().st_mtime:
        subprocess.run(
            [str(exe), "--data", str(REPO / "data" / "tweet_emotions.csv"), "--out", str(out), "--l2", L2],
            check=True,
            capture_output=True,
            timeout=900,
        )
    return art


def tensor_bytes(path, name):
    """The raw bytes of one tensor of a safetensors file (u64 header length, JSON header, data);
    None when the file is not one (an artifact of an older format)."""
    raw = Path(path).read_bytes()
    try:
        (n,) = struct.unpack("<Q", raw[:8])
        start, end = json.loads(raw[8 : 8 + n])[name]["data_offsets"]
    except (struct.error, ValueError, KeyError, TypeError):
        return None
    return raw[8 + n + start : 8 + n + end]


def install(src, model_dir):
    """Atomic replace: a replica reading the file never sees half of it."""
    tmp = model_dir / f".{ARTIFACT}.rollout"
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, model_dir / ARTIFACT)


def hup_all(ctx, pause):
    for c in ctx.v1() + ctx.v2():
        sh(["docker", "kill", "-s", "HUP", c.id])
        time.sleep(pause)


def test_model_rollout(ctx, rep):
    model_dir = REPO / "model"
    current = model_dir / ARTIFACT
    if not rep.check("rollout: a model is mounted", current.exists(), f"{current}"):
        return
    backup = BUILD / "model-original" / ARTIFACT
    backup.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(current, backup)
    new = second_artifact()
    weights = [tensor_bytes(new, "weights"), tensor_bytes(backup, "weights")]
    if not rep.check(
        "rollout: the second artifact has other weights than the mounted one",
        None not in weights and weights[0] != weights[1],
        f"{new} vs {backup} (None = not a safetensors artifact: retrain ./model)",
    ):
        return
    marks = {}

    def action():
        marks["start"] = time.time()
        install(new, model_dir)
        hup_all(ctx, pause=2)
        marks["done"] = time.time()

    debug = {2: ["X-Experiment-Group: debug"]}
    try:
        total, _, _ = ctx.under_load(action, clients_n=3, duration=30, warmup=5, headers_per_client=debug, tag="roll-m")
    finally:
        # Put the original back only if the file is still ours: ./model is shared, and someone may
        # have retrained it meanwhile; their newer artifact then stays.
        if current.read_bytes() == new.read_bytes():
            install(backup, model_dir)
        else:
            rep.info("./model changed during the rollout (retrained?): left as it is")
        hup_all(ctx, pause=0.5)
    start, done = marks.get("start", 0), marks.get("done", 1e18)
    versions_before = sorted({e[3] for e in total["events"] if e[0] < start and e[3]})
    after = [e for e in total["events"] if e[0] > done + 1]
    versions_after = sorted({e[3] for e in after if e[3]})
    rep.check(
        "rollout: every request answered 200 during the rollout",
        all_ok(total),
        f"{clients.describe(total)}; worst latency {worst_latency(total):.0f} ms",
    )
    rep.check(
        "rollout: afterwards every replica reports the one new model_version",
        len(versions_before) == 1 and len(versions_after) == 1 and versions_after != versions_before,
        f"model_version before the rollout {versions_before}, after {versions_after}, "
        f"answered by {instances(total, done + 1)}",
    )
    time.sleep(2)
    probe, _, _ = ctx.under_load(lambda: None, clients_n=1, duration=3, warmup=0, tag="roll-back")
    back = sorted({e[3] for e in probe["events"] if e[3]})
    # The artifact put back is the file found on disk, which is not necessarily what the replicas were
    # serving (./model may have been retrained since they loaded it): one version, not the new one.
    rep.check(
        "rollout: rolling back (artifact found on disk + SIGHUP) reaches every replica",
        len(back) == 1 and back != versions_after and all_ok(probe),
        f"model_version now {back} (served before the rollout: {versions_before}, rolled out: "
        f"{versions_after}); {clients.describe(probe)}",
    )
