#!/usr/bin/env bash
# What the container image contains, checked without a container engine (run by .ci/run).
#
# Assembles the Dockerfile's runtime stage in a temp folder by following the Dockerfile itself: the build
# stage's COPY lines into a build folder, a clean `npm run build` there and `npm prune --omit=dev`, then the
# runtime stage's COPY lines (from the build folder or the repository) and its ENV lines. node_modules before
# the prune is a copy of this checkout's (`npm ci` of the same package-lock.json, which is what the build
# stage's `npm ci` does). Then, from that folder, with a clean environment and fontconfig pointed at an empty
# configuration (the slim base image has no fonts), it runs:
#   node dist/src/cli/run.js --version, demo, register --help; the /status chart renderer (its labels must be
#   drawn: compared with a render without them); the HEALTHCHECK command on a fresh and on a stale health file.
# It also checks that no development dependency is in the runtime node_modules and that .dockerignore keeps
# secrets and state files out at every depth. Exits non-zero naming the first failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

fail() { echo "image-check: FAILED: $*" >&2; exit 1; }
step() { echo "image-check: $*"; }

[ -d node_modules ] || fail "run npm ci first (node_modules is copied into the build folder)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stands-image-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
build=$tmp/build
root=$tmp/root # the image's file system: WORKDIR /app is $root/app
mkdir -p "$build" "$root"

# The Dockerfile, continuation lines joined, split into its stages.
joined=$tmp/Dockerfile.joined
awk '{ if (sub(/\\$/, "")) { buf = buf $0 } else { print buf $0; buf = "" } }' Dockerfile >"$joined"
stage_lines() { # stage name -> its instructions (comments dropped)
  awk -v want="$1" '/^FROM /{ cur = ($NF == want) } cur && !/^FROM / && !/^[[:space:]]*#/ && NF' "$joined"
}
stage_lines build >"$tmp/build.df"
stage_lines runtime >"$tmp/runtime.df"
[ -s "$tmp/build.df" ] && [ -s "$tmp/runtime.df" ] || fail "Dockerfile has no 'build' and 'runtime' stages"
grep -q '^WORKDIR /app$' "$tmp/runtime.df" || fail "the runtime stage's WORKDIR is not /app (this script assumes it)"

# COPY [--from=build] [--chown=…] SRC… DEST, relative DEST under /app; anything else is refused, so a new
# kind of instruction makes this check fail instead of silently not being followed.
copy_into() { # $1 source root, $2 destination root, rest: the COPY arguments without flags
  local srcroot=$1 dstroot=$2; shift 2
  local args=("$@") dest=${args[${#args[@]}-1]} n=$(( ${#args[@]} - 1 )) i
  case $dest in /*) ;; *) dest=/app/$dest ;; esac
  for (( i = 0; i < n; i++ )); do
    local src=${args[$i]#/app/}
    [ -e "$srcroot/$src" ] || fail "COPY source $src not found"
    if [[ $dest == */ ]] || [ "$n" -gt 1 ]; then
      mkdir -p "$dstroot$dest" && cp -a "$srcroot/$src" "$dstroot$dest"
    else
      mkdir -p "$(dirname "$dstroot$dest")" && cp -a "$srcroot/$src" "$dstroot$dest"
    fi
  done
}
follow_copy() { # $1 stage file, $2 destination root, $3 root for --from=build sources
  local line words from
  while IFS= read -r line; do
    read -r -a words <<<"$line"
    case ${words[0]} in
      COPY)
        from=repo
        words=("${words[@]:1}")
        while [[ ${words[0]} == --* ]]; do
          case ${words[0]} in
            --from=build) from=build ;;
            --chown=*) ;;
            *) fail "COPY flag ${words[0]} not understood by scripts/image-check.sh" ;;
          esac
          words=("${words[@]:1}")
        done
        if [ "$from" = build ]; then copy_into "$3" "$2" "${words[@]}"; else copy_into "$repo" "$2" "${words[@]}"; fi
        ;;
      FROM | RUN | WORKDIR | ENV | USER | VOLUME | HEALTHCHECK | ENTRYPOINT | CMD) ;;
      *) fail "Dockerfile instruction ${words[0]} not understood by scripts/image-check.sh" ;;
    esac
  done <"$1"
}

step "build stage: COPY lines, node_modules as after npm ci, clean npm run build, npm prune --omit=dev"
follow_copy "$tmp/build.df" "$build" /nonexistent
mv "$build/app"/* "$build"/ && rmdir "$build/app"
cp -a node_modules "$build/node_modules"
( cd "$build" && npm run build >"$tmp/build.log" 2>&1 && npm prune --omit=dev >>"$tmp/build.log" 2>&1 ) \
  || { cat "$tmp/build.log" >&2; fail "build stage"; }

step "runtime stage: COPY lines"
follow_copy "$tmp/runtime.df" "$root" "$build"
app=$root/app
listing=$(cd "$app" && ls -A | tr '\n' ' ')
[ "$listing" = "data dist node_modules package.json " ] || fail "unexpected contents of /app: $listing"
for dev in tsx typescript vitest pngjs esbuild; do # dev-only (others, e.g. ws, @types/node, come with discord.js)
  [ ! -e "$app/node_modules/$dev" ] || fail "development dependency $dev is in the runtime node_modules"
done
[ -f "$app/dist/src/discord/fonts/DejaVuSans.ttf" ] || fail "the chart's font is not in dist/"

# The runtime stage's ENV lines, plus a clean environment: no HOME fonts, fontconfig with no font directories.
cat >"$tmp/fonts.conf" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig></fontconfig>
XML
envs=(PATH="$PATH" HOME="$tmp/home" TMPDIR="$tmp" FONTCONFIG_FILE="$tmp/fonts.conf" FONTCONFIG_PATH="$tmp")
while IFS= read -r line; do
  for kv in ${line#ENV }; do
    k=${kv%%=*} v=${kv#*=}
    case $v in /*) v=$root$v ;; esac # absolute paths live in the assembled file system
    envs+=("$k=$v")
  done
done < <(grep '^ENV ' "$tmp/runtime.df")
mkdir -p "$tmp/home" "$root/state" "$root/tmp"
run() { (cd "$app" && env -i "${envs[@]}" "$@"); }

step "node dist/src/cli/run.js --version"
want=$(node -p "require('./package.json').version")
got=$(run node dist/src/cli/run.js --version) || fail "--version exited $?"
[ "$got" = "$want" ] || fail "--version printed '$got', expected '$want'"

step "node dist/src/cli/run.js register --help"
out=$(run node dist/src/cli/run.js register --help) || fail "register --help exited $?"
grep -q 'Usage: stands register' <<<"$out" || fail "register --help: no usage line in: $out"

step "node dist/src/cli/run.js demo"
out=$(run env STANDS_DEMO_TIME_SCALE=0.1 node dist/src/cli/run.js demo 2>&1) || { echo "$out" >&2; fail "demo exited non-zero"; }
for want in 'pve-stands demo: a simulated Proxmox VE cluster' 'Status (`stands status`)' 'What it would remove here'; do
  grep -qF "$want" <<<"$out" || { echo "$out" >&2; fail "demo output lacks: $want"; }
done

step "the /status chart draws its labels with no system fonts"
out=$(run node --input-type=module -e "
  const c = await import('./dist/src/discord/chart.js');
  const points = Array.from({ length: 30 }, (_, i) => ({ t: 1_700_000_000 + i * 120, cpu: 0.2 + i / 100, mem: 0.5 }));
  let least = Infinity;
  for (const title of ['CPU and memory, last hour', 'ЦП и память за последний час']) {
    const svg = c.loadChartSvg([{ node: 'pve1', points }, { node: 'pve2', points }], { width: 640, height: 360, title });
    least = Math.min(least, c.differingPixels(c.rasteriseChart(svg), c.rasteriseChart(c.withoutText(svg))));
  }
  console.log(least);
") || fail "chart renderer exited $?"
[ "$out" -gt 1500 ] || fail "chart labels not drawn: only $out pixels differ from a render without them"
step "  labels drawn: $out pixels differ from the render without text"

step "HEALTHCHECK command: healthy on a fresh health file, unhealthy on a stale or missing one"
hc=$(sed -n 's/^HEALTHCHECK .* CMD //p' "$tmp/runtime.df")
[ -n "$hc" ] || fail "the runtime stage has no HEALTHCHECK"
mapfile -t hc_argv < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$hc")
health_file=$(printf '%s\n' "${envs[@]}" | sed -n 's/^STANDS_HEALTH_FILE=//p')
[ -n "$health_file" ] || fail "the runtime stage sets no STANDS_HEALTH_FILE"
beat() { node -e 'const t = Date.now() - Number(process.argv[1]) * 1000; console.log(JSON.stringify({ writtenAt: t, connected: true, lastConnectedAt: t, pid: 1 }))' "$1"; }
beat 1 >"$health_file"
run "${hc_argv[@]}" >/dev/null || fail "HEALTHCHECK failed on a fresh health file"
beat 90 >"$health_file"
if run "${hc_argv[@]}" >/dev/null; then fail "HEALTHCHECK passed on a 90 s old health file"; fi
rm -f "$health_file"
if run "${hc_argv[@]}" >/dev/null; then fail "HEALTHCHECK passed without a health file"; fi

step ".dockerignore keeps secrets and state out at every depth"
for pattern in '**/.env' '**/.env.*' '**/*.sqlite' '**/*.sqlite-*' '**/*.db' '**/*.key' '**/*secret*' '**/node_modules' '**/.git'; do
  grep -qxF "$pattern" .dockerignore || fail ".dockerignore lacks $pattern"
done

echo "image-check: all checks passed"
