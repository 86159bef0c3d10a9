#!/bin/sh
# berth's main job, end to end on a fresh Debian 12 machine (as root): set up, build a busybox
# bundle from Debian's busybox-static, and run it with berth-runtime; the container prints
# what it sees from the inside.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh >&2

work=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$work/bundle/rootfs/bin/$applet"
done
mkdir -p "$work/bundle/rootfs/proc" "$work/bundle/rootfs/sys" "$work/bundle/rootfs/dev" "$work/bundle/rootfs/tmp" "$work/bundle/rootfs/etc"
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/bundle/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/bundle/rootfs/etc/group"

cat > "$work/bundle/rootfs/demo.sh" <<'SH'
echo "hello from $(hostname): pid $$, uid $(id -u), gid $(id -g)"
echo "namespaces:"; ls -l /proc/self/ns | sed 1d | sed 's/.* \([a-z_]*\) -> /  \1 /'
echo "capabilities:"; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status | sed 's/^/  /'
echo "mounts:"; sed 's/^/  /' /proc/self/mounts
echo "processes:"; ps -o pid,user,comm | sed 's/^/  /'
SH

./bin/berth-runtime spec --bundle "$work/bundle"
node -e '
const fs = require("fs"); const f = process.argv[1];
const s = JSON.parse(fs.readFileSync(f, "utf8"));
s.process.terminal = false;
s.process.args = ["/bin/sh", "/demo.sh"];
s.hostname = "berth-demo";
fs.writeFileSync(f, JSON.stringify(s, null, 2));
' "$work/bundle/config.json"

echo "+ berth-runtime run --bundle $work/bundle demo" >&2
./bin/berth-runtime --root "$work/state" run --bundle "$work/bundle" "demo-$$"
