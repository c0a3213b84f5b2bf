# The defaults of nginx/render-params.sh as an attribute set of strings, NAME -> value, read
# from its `: "${NAME:=value}"` and `: "${NAME=value}"` lines: the one place the gateway's
# parameters have defaults. Builtins only, so `nix-instantiate --eval` runs it without nixpkgs
# (nix/check-static.sh does, and compares it with the script's own output).
script:
let
  lines = builtins.filter builtins.isString (builtins.split "\n" (builtins.readFile script));
  # Bracket expressions instead of escapes: `[$][{]` is neither a Nix interpolation nor ERE syntax.
  parse = line: builtins.match ": \"[$][{]([A-Z0-9_]+):?=([^}]*)[}]\"" line;
  pairs = builtins.filter (match: match != null) (map parse lines);
in
builtins.listToAttrs (map (pair: { name = builtins.elemAt pair 0; value = builtins.elemAt pair 1; }) pairs)
