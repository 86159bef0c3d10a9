#!/bin/sh
# berth's main job, end to end on a fresh Debian 12 machine (as root): set up, build a busybox
# bundle from Debian's busybox-static, and run it with berth-runtime; the container prints
# what it sees from the inside. Then the same rootfs as an OCI image: `berth load` it and
# `berth run` it (engine, monitor, snapshots, docker's defaults).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh >&2

work=$(mktemp -d /tmp/berth-demo.XXXXXX)
# The default network's bridge is a host interface: it goes with the root (network prune).
cleanup() {
  [ -d "$work/root" ] && ./bin/berth --root "$work/root" --state "$work/state" network prune -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
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
echo "network:"; ip -o -4 addr show | sed 's/^[0-9]*: */  /; s/ *scope.*//'
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

# The same rootfs as a one-layer OCI image, loaded into a throw-away root and run with berth
# (on docker's default network: the bridge, a veth and an address, like `docker run`).
echo "+ berth load -i busybox.tar && berth run --rm busybox ..." >&2
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/bundle/rootfs" -cf "$work/layer.tar" .
node -e '
const fs = require("fs"), crypto = require("crypto"), zlib = require("zlib"), path = require("path");
const [tarPath, out] = process.argv.slice(1);
const sha = (b) => "sha256:" + crypto.createHash("sha256").update(b).digest("hex");
fs.mkdirSync(path.join(out, "blobs/sha256"), { recursive: true });
const blob = (b) => { const d = sha(b); fs.writeFileSync(path.join(out, "blobs/sha256", d.slice(7)), b); return { digest: d, size: b.length }; };
const tar = fs.readFileSync(tarPath);
const layer = blob(zlib.gzipSync(tar));
const config = blob(Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux",
  config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
  rootfs: { type: "layers", diff_ids: [sha(tar)] } })));
const manifest = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
  layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }] })));
fs.writeFileSync(path.join(out, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
fs.writeFileSync(path.join(out, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json",
  ...manifest, annotations: { "org.opencontainers.image.ref.name": "busybox:latest" } }] }));
' "$work/layer.tar" "$work/layout"
tar -C "$work/layout" -cf "$work/busybox.tar" .
berth() { ./bin/berth --root "$work/root" --state "$work/state" "$@"; }
berth load -i "$work/busybox.tar"
berth run --rm --name berth-demo -h berth-demo "$(berth images --format json | jq -r .Name | head -1)" /bin/sh /demo.sh
