#!/usr/bin/env bash
# `stands` outside the checkout, as the README's Install section says (run by .ci/run):
#  1. `npm pack` (its prepack builds dist/), the tarball holds the compiled program and no sources or tests;
#  2. `npm install -g --allow-scripts=sqlite3 --prefix TMP ./pve-stands-*.tgz`, then from a folder outside the checkout:
#     `stands --version` and `stands demo` (compiled JavaScript, runtime dependencies only);
#  3. `npm install -g --prefix TMP .` from the checkout (a link to it): `stands --version`.
# Exits non-zero naming the first failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

fail() { echo "pack-check: FAILED: $*" >&2; exit 1; }
step() { echo "pack-check: $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stands-pack-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/elsewhere"
version=$(node -p "require('./package.json').version")

step "npm pack"
npm pack --pack-destination "$tmp" >"$tmp/pack.log" 2>&1 || { cat "$tmp/pack.log" >&2; fail "npm pack"; }
tgz=$tmp/pve-stands-$version.tgz
[ -f "$tgz" ] || fail "no $tgz"
tar -tzf "$tgz" | sed 's|^package/||' | sort >"$tmp/files"
for f in package.json bin/stands.js dist/src/cli/run.js dist/src/sim/schema-subset.json \
  dist/src/discord/fonts/DejaVuSans.ttf dist/src/discord/fonts/LICENSE dist/commands/index.js \
  data/profiles/netlab.yml data/users.example.txt; do
  grep -qxF "$f" "$tmp/files" || fail "the tarball lacks $f"
done
if grep -E '^(src|test|bench|scripts)/|\.ts$|(^|/)\.env$|\.sqlite' "$tmp/files" | grep -v '\.d\.ts$' >"$tmp/extra"; then
  fail "the tarball holds files it should not: $(head -5 "$tmp/extra" | tr '\n' ' ')"
fi
step "  $(wc -l <"$tmp/files") files, $(du -k "$tgz" | cut -f1) KiB"

step "npm install -g --allow-scripts=sqlite3 --prefix TMP ./pve-stands-$version.tgz"
# (npm 11 lets a dependency's install script run only when allowed; sqlite3's builds or fetches its binary)
npm install -g --allow-scripts=sqlite3 --prefix "$tmp/prefix" "$tgz" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "npm install -g of the tarball"; }
installed=$tmp/prefix/lib/node_modules/pve-stands
[ ! -e "$installed/node_modules/tsx" ] || fail "tsx (a devDependency) was installed with the package"
[ -f "$installed/node_modules/sqlite3/build/Release/node_sqlite3.node" ] || [ -d "$installed/node_modules/sqlite3/lib/binding" ] \
  || fail "sqlite3's native binding was neither built nor downloaded"
cd "$tmp/elsewhere"
[ "$(PATH="$tmp/prefix/bin:$PATH" command -v stands)" = "$tmp/prefix/bin/stands" ] || fail "stands is not on PATH from the prefix"

step "stands --version (outside the checkout)"
got=$(PATH="$tmp/prefix/bin:$PATH" stands --version) || fail "stands --version exited $?"
[ "$got" = "$version" ] || fail "stands --version printed '$got', expected '$version'"

step "stands demo (outside the checkout)"
out=$(PATH="$tmp/prefix/bin:$PATH" STANDS_DEMO_TIME_SCALE=0.1 stands demo 2>&1) || { echo "$out" >&2; fail "stands demo exited non-zero"; }
for want in 'pve-stands demo: a simulated Proxmox VE cluster' 'Status (`stands status`)' 'What it would remove here'; do
  grep -qF "$want" <<<"$out" || { echo "$out" >&2; fail "stands demo output lacks: $want"; }
done

step "npm install -g --prefix TMP . (from the checkout: a link to it)"
cd "$repo"
npm install -g --prefix "$tmp/linked" . >"$tmp/link.log" 2>&1 || { cat "$tmp/link.log" >&2; fail "npm install -g ."; }
cd "$tmp/elsewhere"
got=$(PATH="$tmp/linked/bin:$PATH" stands --version) || fail "linked stands --version exited $?"
[ "$got" = "$version" ] || fail "linked stands --version printed '$got', expected '$version'"

echo "pack-check: all checks passed"
