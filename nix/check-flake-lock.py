#!/usr/bin/env python3
"""Check flake.lock's structure without Nix's network access.

What a machine without a binary cache can still check about the lock file:

1. It is a version 7 lock file whose `root` node names every input.
2. Every node is reachable from the root and every input is locked to a full
   revision: type, owner, repo, a 40-hex rev, an SRI sha256 narHash and an
   integer lastModified that is not in the future.
3. The `original` of each root input is what flake.nix asks for (the inputs are
   a plain attribute set, so `nix-instantiate --eval` reads them offline).
4. nixpkgs follows a NixOS release branch (nixos-YY.MM), so that older Nix
   versions can still evaluate the pinned tree.

It cannot check that the narHash matches the revision's content: that needs the
tarball, which only `nix flake metadata` on a machine with network fetches.

Usage: check-flake-lock.py [REPO_ROOT]   (exit status 1 and one line per problem)
"""

import base64
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REV = re.compile(r"^[0-9a-f]{40}$")
RELEASE_BRANCH = re.compile(r"^nixos-\d\d\.(05|11)$")
# github:owner/repo or github:owner/repo/ref (ref may hold slashes).
GITHUB_URL = re.compile(r"^github:(?P<owner>[^/]+)/(?P<repo>[^/?]+)(?:/(?P<ref>[^?]+))?$")


def nar_hash_ok(value):
    """An SRI sha256 hash: 'sha256-' and the base64 of 32 bytes."""
    if not isinstance(value, str) or not value.startswith("sha256-"):
        return False
    try:
        return len(base64.b64decode(value[len("sha256-") :], validate=True)) == 32
    except ValueError:
        return False


def check_node(name, node, problems):
    locked = node.get("locked")
    original = node.get("original")
    if not isinstance(locked, dict):
        problems.append(f"{name}: no 'locked' attribute")
        return
    if not isinstance(original, dict):
        problems.append(f"{name}: no 'original' attribute")
    if locked.get("type") != "github":
        problems.append(f"{name}: locked.type is {locked.get('type')!r}, expected 'github'")
    for key in ("owner", "repo"):
        if not locked.get(key):
            problems.append(f"{name}: locked.{key} is missing")
    if not REV.match(str(locked.get("rev", ""))):
        problems.append(f"{name}: locked.rev {locked.get('rev')!r} is not a full 40-hex revision")
    if not nar_hash_ok(locked.get("narHash")):
        problems.append(f"{name}: locked.narHash {locked.get('narHash')!r} is not an SRI sha256 hash")
    modified = locked.get("lastModified")
    if not isinstance(modified, int) or isinstance(modified, bool):
        problems.append(f"{name}: locked.lastModified {modified!r} is not an integer")
    elif not 1_000_000_000 < modified <= time.time():
        problems.append(f"{name}: locked.lastModified {modified} is not a past Unix time")
    if "ref" in locked:
        problems.append(f"{name}: locked has a 'ref'; a github lock pins only 'rev'")


def declared_inputs(root):
    """flake.nix's inputs as JSON, or None when nix-instantiate is missing."""
    if shutil.which("nix-instantiate") is None:
        return None
    expr = f"builtins.mapAttrs (_: i: i.url or null) (import {root / 'flake.nix'}).inputs"
    out = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "--expr", expr],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = []
    lock = json.loads((root / "flake.lock").read_text())

    if lock.get("version") != 7:
        problems.append(f"version is {lock.get('version')!r}, expected 7")
    nodes = lock.get("nodes", {})
    root_name = lock.get("root")
    root_node = nodes.get(root_name)
    if root_node is None or not root_node.get("inputs"):
        problems.append(f"root node {root_name!r} is missing or has no inputs")
        root_inputs = {}
    else:
        root_inputs = root_node["inputs"]

    # Walk the graph from the root; a list is a 'follows' path, not a node name.
    seen, todo = set(), [root_name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        node = nodes.get(current)
        if node is None:
            problems.append(f"node {current!r} is referenced but not defined")
            continue
        if current != root_name:
            check_node(current, node, problems)
        todo.extend(v for v in node.get("inputs", {}).values() if isinstance(v, str))
    for orphan in sorted(set(nodes) - seen):
        problems.append(f"node {orphan!r} is not reachable from the root")

    declared = declared_inputs(root)
    if declared is None:
        print("note: nix-instantiate not found; flake.nix inputs not compared with the lock")
    else:
        if set(declared) != set(root_inputs):
            problems.append(f"flake.nix inputs {sorted(declared)} != lock root inputs {sorted(root_inputs)}")
        for name, url in declared.items():
            node = nodes.get(root_inputs.get(name), {})
            match = GITHUB_URL.match(url or "")
            if not match:
                problems.append(f"{name}: url {url!r} is not a github: flake reference")
                continue
            wanted = {k: v for k, v in match.groupdict().items() if v is not None}
            original = {k: v for k, v in node.get("original", {}).items() if k != "type"}
            if original != wanted:
                problems.append(f"{name}: lock original {original} does not match flake.nix url {url!r}")

    nixpkgs = nodes.get(root_inputs.get("nixpkgs"), {})
    ref = nixpkgs.get("original", {}).get("ref", "")
    if not RELEASE_BRANCH.match(ref):
        problems.append(f"nixpkgs follows {ref!r}, expected a release branch such as nixos-25.05")

    for problem in problems:
        print(f"flake.lock: {problem}")
    if problems:
        return 1
    for name in sorted(root_inputs):
        locked = nodes[root_inputs[name]]["locked"]
        when = time.strftime("%Y-%m-%d", time.gmtime(locked["lastModified"]))
        print(f"flake.lock: {name} = github:{locked['owner']}/{locked['repo']}/{locked['rev']} ({when})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
