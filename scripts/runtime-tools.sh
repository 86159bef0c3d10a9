#!/bin/sh
# The OCI runtime-tools validation suite (validation/*.go of opencontainers/runtime-tools) run
# against berth-runtime, runc and crun side by side. Run by hand, as root, never by CI: it needs
# a runtime-tools checkout, which this script does not fetch, and Go (Debian's golang-go) to
# build it. Results: docs/security.md.
#
#   scripts/runtime-tools.sh RUNTIME_TOOLS_DIR [OUT_DIR]
#
# RUNTIME_TOOLS_DIR: a checkout of runtime-tools; with Debian's Go 1.19 use commit 260e151
# (2025-03-03, the last one whose go.mod says go 1.19). Its runtimetest and validation/*.t are
# built there if missing. OUT_DIR (default: a new temp dir) gets one TAP file per test and
# runtime and summary.md. Env RUNTIMES picks the runtimes (default "berth runc crun"),
# TESTS a space-separated subset of test names (default: every validation/*/ dir).
set -eu

rt=${1:?usage: scripts/runtime-tools.sh RUNTIME_TOOLS_DIR [OUT_DIR]}
rt=$(cd "$rt" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$(mktemp -d /tmp/berth-runtime-tools-XXXXXX)}
mkdir -p "$out"
work=$(mktemp -d /tmp/berth-runtime-tools-work-XXXXXX)
runtimes=${RUNTIMES:-berth runc crun}
cleanup() {
  for r in $runtimes; do
    [ -x "$work/run-$r" ] || continue
    for id in $("$work/run-$r" list -q 2>/dev/null); do "$work/run-$r" delete --force "$id" >/dev/null 2>&1 || true; done
  done
  # linux_ns_itype runs a container without a mount namespace: runc then mounts /proc, /dev,
  # /sys... of the bundle in the host's namespace and leaves them. Bundles live under $work
  # (TMPDIR below), so everything mounted there is this run's: unmount it, deepest first.
  awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
  if awk -v w="$work/" 'index($5, w) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    echo "runtime-tools.sh: mounts left under $work, not removing it" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "runtime-tools.sh: needs root" >&2; exit 1; }
command -v go >/dev/null || { echo "runtime-tools.sh: needs Go (apt-get install golang-go)" >&2; exit 1; }

if [ ! -x "$rt/runtimetest" ] || [ -z "$(ls "$rt"/validation/*/*.t 2>/dev/null)" ]; then
  echo "building runtimetest and validation/*.t in $rt" >&2
  make -C "$rt" runtimetest validation-executables >"$out/build.log" 2>&1 || { tail "$out/build.log" >&2; exit 1; }
fi

# berth-runtime runs from a copy of the current build: a rebuild of the checkout during the
# run (it takes a while) would otherwise swap the runtime under the tests.
mkdir -p "$work/berth/bin" "$work/berth/dist/bin" "$work/berth/native" "$work/tmp"
cp "$repo/bin/berth-runtime" "$work/berth/bin/"
cp "$repo/dist/bin/berth-runtime.mjs" "$work/berth/dist/bin/"
cp -r "$repo/native/build" "$work/berth/native/"
ln -s "$repo/node_modules" "$work/berth/node_modules"

# One wrapper per runtime: RUNTIME must be a single command, and each runtime gets a private
# state root so nothing it leaves can touch anyone else's containers.
for r in $runtimes; do
  mkdir -p "$work/state-$r"
  case $r in
    berth) cmd="\"$work/berth/bin/berth-runtime\" --root \"$work/state-$r\" \"\$@\"" ;;
    runc) cmd="runc --root \"$work/state-$r\" \"\$@\"" ;;
    # crun 1.8 refuses the hybrid cgroup layout: hide cgroup2 in a private mount namespace
    # (PEERS.md); affects nothing outside that namespace.
    crun) cmd="unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root \"$work/state-$r\" \"\$@\"' crun \"\$@\"" ;;
    *) echo "unknown runtime $r" >&2; exit 1 ;;
  esac
  printf '#!/bin/sh\nexec %s\n' "$cmd" >"$work/run-$r"
  chmod +x "$work/run-$r"
done


tests=${TESTS:-$(cd "$rt/validation" && for d in */; do d=${d%/}; [ -x "$d/$d.t" ] && echo "$d"; done; true)}

# counts of a TAP file: "ok fail skip planned_ok"
count() {
  awk '
    /^ok / { if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) s++; else o++ }
    /^not ok / { if ($0 ~ /# *[Tt][Oo][Dd][Oo]/) s++; else f++ }
    /^1\.\.[0-9]+/ { split($1, a, "\\.\\."); plan = a[2] }
    END { printf "%d %d %d %d\n", o, f, s, plan }' "$1"
}

printf '| test |' >"$out/summary.md"
for r in $runtimes; do printf ' %s |' "$r" >>"$out/summary.md"; done
printf '\n|---|' >>"$out/summary.md"
for r in $runtimes; do printf -- '---|' >>"$out/summary.md"; done
printf '\n' >>"$out/summary.md"

for r in $runtimes; do echo "0 0 0 0 0" >"$work/total-$r"; done
for t in $tests; do
  printf '| %s |' "$t" >>"$out/summary.md"
  for r in $runtimes; do
    f="$out/$t.$r.tap"
    # run from the checkout: the tests read rootfs-<arch>.tar.gz and runtimetest from the cwd
    (cd "$rt" && TMPDIR="$work/tmp" RUNTIME="$work/run-$r" timeout 120 "./validation/$t/$t.t" >"$f" 2>"$out/$t.$r.err") && code=0 || code=$?
    set -- $(count "$f")
    ok=$1 fail=$2 skip=$3 plan=$4
    # a test that died before its plan was complete counts its missing points as failures
    missing=$((plan - ok - fail - skip))
    [ "$missing" -gt 0 ] && fail=$((fail + missing))
    [ "$code" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
    # the *_fail tests print nothing and exit 0 when the runtime refused the bad config
    if [ "$((ok + fail + skip))" -eq 0 ]; then
      case $t in *_fail) ok=1 ;; *) fail=1 ;; esac
    fi
    mark=$ok/$((ok + fail))
    [ "$skip" -gt 0 ] && mark="$mark ($skip skipped)"
    printf ' %s |' "$mark" >>"$out/summary.md"
    set -- $(cat "$work/total-$r")
    filepass=$(( $5 + (fail == 0 ? 1 : 0) ))
    echo "$(($1 + ok)) $(($2 + fail)) $(($3 + skip)) $(($4 + 1)) $filepass" >"$work/total-$r"
    echo "$t $r: ok $ok fail $fail skip $skip (exit $code)" >&2
  done
  printf '\n' >>"$out/summary.md"
done

printf '| **total: assertions passed / run** |' >>"$out/summary.md"
for r in $runtimes; do set -- $(cat "$work/total-$r"); printf ' **%d/%d** |' "$1" "$(($1 + $2))" >>"$out/summary.md"; done
printf '\n| **test files passing entirely** |' >>"$out/summary.md"
for r in $runtimes; do set -- $(cat "$work/total-$r"); printf ' **%d/%d** |' "$5" "$4" >>"$out/summary.md"; done
printf '\n' >>"$out/summary.md"
cat "$out/summary.md"
echo "TAP output in $out" >&2
