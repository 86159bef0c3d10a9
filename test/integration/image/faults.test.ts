// Hostile and broken registries: a blob whose bytes lie, a connection cut mid-blob (resumed
// with Range), 500s, two pulls at once (each blob fetched once), kill -9 mid-pull.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Scope, execOk, leakCheckFile, startRegistry, type Registry } from '../../harness/index.js';
import { BERTH, berth } from './_berth.js';
import { Layout, busyboxEntries, noise, type BuiltImage } from './_layout.js';
import { startProxy, type Proxy } from './_proxy.js';

const scope = new Scope('image-faults');
leakCheckFile(scope);

let reg: Registry;
let proxy: Proxy;
let img: BuiltImage;
let big: BuiltImage['layers'][number];

const blobPath = (d: string) => `/v2/test/faults/blobs/${d}`;

function files(root: string, sub: string): string[] {
  const dir = join(root, sub);
  return existsSync(dir) ? readdirSync(dir) : [];
}

function assertConsistent(root: string): void {
  for (const hex of files(root, 'content/blobs/sha256')) {
    const got = createHash('sha256').update(readFileSync(join(root, 'content/blobs/sha256', hex))).digest('hex');
    assert.equal(got, hex, `blob ${hex} does not match its name`);
  }
}

function assertNothingStored(root: string): void {
  assert.deepEqual(files(root, 'content/blobs/sha256'), [], 'no blobs');
  assert.deepEqual(files(root, 'content/ingest'), [], 'no ingest leftovers');
  assert.deepEqual(files(root, 'snapshots/overlay').filter((n) => n !== 'l'), [], 'no snapshots');
}

test('setup: registry, proxy, a 3-layer image with a 24 MB layer', async () => {
  reg = await startRegistry(scope);
  proxy = await startProxy(reg);
  scope.defer('close proxy', () => proxy.close());
  const l = new Layout(scope.mkdtemp('layout'));
  img = await l.image(
    [
      { entries: busyboxEntries() },
      { entries: [{ path: 'big', type: 'file', content: noise(24 << 20, 'faults') }], compression: 'none' },
      { entries: [{ path: 'small', type: 'file', content: 'x\n' }], compression: 'zstd' },
    ],
    { tag: 'v1' },
  );
  big = img.layers[1];
  await execOk('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', `oci:${l.dir}:v1`, `docker://${reg.host}/test/faults:v1`], { timeoutMs: 60_000 });
});

test('a registry that lies about a blob: error, nothing stored', async () => {
  const root = scope.mkdtemp('root');
  proxy.fault = (m, p) => (m === 'GET' && p === blobPath(big.digest) ? { kind: 'corrupt' } : undefined);
  const r = await berth(root, ['pull', `${proxy.host}/test/faults:v1`]);
  proxy.fault = () => undefined;
  assert.equal(r.code, 125, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`blob ${big.digest}: digest mismatch`));
  assertNothingStored(root);
  const ls = await berth(root, ['images', '-q']);
  assert.equal(ls.stdout, '');
});

test('a connection cut mid-blob: the next pull resumes with a Range request', async () => {
  const root = scope.mkdtemp('root');
  proxy.ranges.clear();
  proxy.fault = (m, p) => (m === 'GET' && p === blobPath(big.digest) ? { kind: 'cut', after: 5 << 20 } : undefined);
  const first = await berth(root, ['pull', `${proxy.host}/test/faults:v1`], { env: { ...process.env, BERTH_REGISTRY_RETRIES: '0' } });
  assert.equal(first.code, 125, first.stdout + first.stderr);
  assert.match(first.stderr, /fetch blob/);
  const partial = join(root, 'content/ingest', `sha256-${big.digest.slice(7)}`, 'data');
  const kept = statSync(partial).size;
  assert.ok(kept > 0 && kept < big.size, `partial ingest kept: ${kept}`);
  proxy.fault = () => undefined;
  const second = await berth(root, ['pull', `${proxy.host}/test/faults:v1`]);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(proxy.ranges.get(blobPath(big.digest)), [`bytes=${kept}-`]);
  assertConsistent(root);
  assert.deepEqual(files(root, 'content/ingest'), []);
});

test('cuts and 500s within one pull are retried, resuming where the bytes stopped', async () => {
  const root = scope.mkdtemp('root');
  proxy.ranges.clear();
  proxy.fault = (m, p, n) => {
    if (m !== 'GET' || p !== blobPath(big.digest)) return undefined;
    if (n === 1) return { kind: 'cut', after: 3 << 20 };
    if (n === 2) return { kind: 'status', status: 500 };
    if (n === 3) return { kind: 'cut', after: 4 << 20 };
    return undefined;
  };
  const before = proxy.counts.get(`GET ${blobPath(big.digest)}`) ?? 0;
  proxy.counts.delete(`GET ${blobPath(big.digest)}`);
  const r = await berth(root, ['pull', `${proxy.host}/test/faults:v1`]);
  proxy.fault = () => undefined;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(proxy.counts.get(`GET ${blobPath(big.digest)}`), 4);
  const ranges = proxy.ranges.get(blobPath(big.digest)) ?? [];
  assert.equal(ranges.length, 3, JSON.stringify(ranges));
  assert.ok(before >= 0);
  assertConsistent(root);
});

test('a registry that keeps answering 500: error after retries, partial work kept', async () => {
  const root = scope.mkdtemp('root');
  proxy.fault = (m, p) => (m === 'GET' && p === blobPath(big.digest) ? { kind: 'status', status: 500 } : undefined);
  const r = await berth(root, ['pull', `${proxy.host}/test/faults:v1`], { env: { ...process.env, BERTH_REGISTRY_RETRIES: '2' } });
  proxy.fault = () => undefined;
  assert.equal(r.code, 125);
  assert.match(r.stderr, /registry answered 500/);
  assert.equal((await berth(root, ['images', '-q'])).stdout, '');
  assertConsistent(root);
});

test('two pulls at once download each blob once', async () => {
  const root = scope.mkdtemp('root');
  proxy.counts.clear();
  // Slow the big layer so both processes overlap on it.
  proxy.fault = (m, p) => (m === 'GET' && p === blobPath(big.digest) ? { kind: 'slow', bytesPerTick: 1 << 20, tickMs: 20 } : undefined);
  const [a, b] = await Promise.all([berth(root, ['pull', `${proxy.host}/test/faults:v1`]), berth(root, ['pull', `${proxy.host}/test/faults:v1`])]);
  proxy.fault = () => undefined;
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  for (const d of [img.config.digest, ...img.layers.map((l) => l.digest)]) {
    assert.equal(proxy.counts.get(`GET ${blobPath(d)}`), 1, `GETs of ${d}`);
  }
  assertConsistent(root);
  const ls = await berth(root, ['images', '-q']);
  assert.equal(ls.stdout.trim(), img.config.digest.slice(7, 19));
});

test('kill -9 mid-pull leaves a consistent store; the next pull resumes and succeeds', async () => {
  const root = scope.mkdtemp('root');
  proxy.ranges.clear();
  proxy.fault = (m, p) => (m === 'GET' && p === blobPath(big.digest) ? { kind: 'slow', bytesPerTick: 256 << 10, tickMs: 20 } : undefined);
  const child = spawn(BERTH, ['--root', root, 'pull', `${proxy.host}/test/faults:v1`], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('close', r));
  const partial = join(root, 'content/ingest', `sha256-${big.digest.slice(7)}`, 'data');
  const deadline = Date.now() + 20_000;
  while (!(existsSync(partial) && statSync(partial).size > 2 << 20)) {
    assert.ok(Date.now() < deadline, 'pull never started writing the big layer');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await exited;
  proxy.fault = () => undefined;
  assertConsistent(root);
  assert.equal((await berth(root, ['images', '-q'])).stdout, '', 'no image record after a killed pull');
  const r = await berth(root, ['pull', `${proxy.host}/test/faults:v1`]);
  assert.equal(r.code, 0, r.stderr);
  const ranges = proxy.ranges.get(blobPath(big.digest)) ?? [];
  assert.equal(ranges.length, 1, 'the clean pull resumed the killed one');
  assertConsistent(root);
  assert.deepEqual(files(root, 'content/ingest'), []);
  // Everything removable goes: no leftovers of the killed process (locks, extract snapshots).
  assert.equal((await berth(root, ['rmi', `${proxy.host}/test/faults:v1`])).code, 0);
  assertNothingStored(root);
});

test('a layer whose content does not match its diff_id is refused with nothing stored', async () => {
  const l = new Layout(scope.mkdtemp('layout'));
  const good = await l.image([{ entries: busyboxEntries() }]);
  // Same layer, config claiming another diff_id.
  const cfg = l.blob(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`] } }));
  const man = l.blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
      layers: [{ mediaType: good.layers[0].mediaType, digest: good.layers[0].digest, size: good.layers[0].size }],
    }),
  );
  const res = await fetch(`${reg.url}/v2/test/baddiff/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202);
  // Upload blobs and the manifest straight to the registry (skopeo would recompute nothing, but
  // this keeps the lie exactly as written).
  for (const d of [good.layers[0], cfg]) {
    const post = await fetch(`${reg.url}/v2/test/baddiff/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(post.headers.get('location')!, reg.url);
    loc.searchParams.set('digest', d.digest);
    const put = await fetch(loc, { method: 'PUT', body: readFileSync(join(l.dir, 'blobs/sha256', d.digest.slice(7))) });
    assert.equal(put.status, 201);
  }
  const mput = await fetch(`${reg.url}/v2/test/baddiff/manifests/v1`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    body: readFileSync(join(l.dir, 'blobs/sha256', man.digest.slice(7))),
  });
  assert.equal(mput.status, 201);
  const root = scope.mkdtemp('root');
  const r = await berth(root, ['pull', `${reg.host}/test/baddiff:v1`]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /the config says diff_id sha256:1111/);
  assertNothingStored(root);
});

test('streaming unpack survives resumes: cut mid-blob, a registry ignoring Range, a partial ingest from before', async () => {
  const l = new Layout(scope.mkdtemp('layout'));
  const content = noise(12 << 20, 'stream');
  const one = await l.image([{ entries: [{ path: 'data', type: 'file', content }], compression: 'gzip' }], { tag: 's1' });
  await execOk('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', `oci:${l.dir}:s1`, `docker://${reg.host}/test/stream:s1`], { timeoutMs: 60_000 });
  const layerPath = `/v2/test/stream/blobs/${one.layers[0].digest}`;
  const env = { ...process.env, BERTH_SNAPSHOTTER: 'native' };
  const want = createHash('sha256').update(content).digest('hex');
  const check = async (root: string, out: string) => {
    assert.match(out, /: unpacked \(/);
    const { newSnapshotter } = await import('../../../src/snapshot/index.js');
    const { closeDatabases } = await import('../../../src/util/sqlite.js');
    const sn = newSnapshotter('native', root);
    const key = scope.uid('view');
    const [m] = await sn.view(key, one.layers[0].diffId);
    const got = createHash('sha256').update(readFileSync(join(m.source, 'data'))).digest('hex');
    await sn.remove(key);
    closeDatabases();
    assert.equal(got, want, 'unpacked content');
  };

  // (a) cut twice mid-blob, resumed with Range inside one pull while the tar streams.
  let root = scope.mkdtemp('root');
  proxy.ranges.clear();
  proxy.counts.delete(`GET ${layerPath}`);
  proxy.fault = (m, p, n) => (m === 'GET' && p === layerPath && n <= 2 ? { kind: 'cut', after: (n * 3) << 20 } : undefined);
  let r = await berth(root, ['pull', `${proxy.host}/test/stream:s1`], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((proxy.ranges.get(layerPath) ?? []).length, 2);
  const order = r.stdout.split('\n').filter((x) => x.startsWith(one.layers[0].digest.slice(7, 19))).map((x) => x.split(': ')[1].split(' ')[0]);
  assert.ok(order.indexOf('unpacking') < order.indexOf('downloaded'), `streamed: ${order.join(', ')}`);
  await check(root, r.stdout);

  // (b) cut, then the registry ignores the Range request: the teed bytes are dropped and the
  //     layer unpacks from the stored blob.
  root = scope.mkdtemp('root');
  proxy.counts.delete(`GET ${layerPath}`);
  proxy.fault = (m, p, n) => (m === 'GET' && p === layerPath ? (n === 1 ? { kind: 'cut', after: 4 << 20 } : n === 2 ? { kind: 'ignore-range' } : undefined) : undefined);
  r = await berth(root, ['pull', `${proxy.host}/test/stream:s1`], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(proxy.counts.get(`GET ${layerPath}`), 2);
  await check(root, r.stdout);

  // (c) a partial ingest left by a failed pull is replayed into the unpacker, then the rest.
  root = scope.mkdtemp('root');
  proxy.ranges.clear();
  proxy.fault = (m, p) => (m === 'GET' && p === layerPath ? { kind: 'cut', after: 5 << 20 } : undefined);
  r = await berth(root, ['pull', `${proxy.host}/test/stream:s1`], { env: { ...env, BERTH_REGISTRY_RETRIES: '0' } });
  assert.equal(r.code, 125);
  proxy.fault = () => undefined;
  r = await berth(root, ['pull', `${proxy.host}/test/stream:s1`], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((proxy.ranges.get(layerPath) ?? []).length, 1);
  await check(root, r.stdout);
});

test('blob redirects are followed; a missing blob and an oversized manifest are errors with nothing stored', async () => {
  let root = scope.mkdtemp('root');
  proxy.fault = (m, p) => (m === 'GET' && p.includes('/blobs/') ? { kind: 'redirect' } : undefined);
  let r = await berth(root, ['pull', `${proxy.host}/test/faults:v1`]);
  proxy.fault = () => undefined;
  assert.equal(r.code, 0, r.stderr);
  assertConsistent(root);

  root = scope.mkdtemp('root');
  proxy.fault = (m, p) => (m === 'GET' && p === blobPath(img.layers[2].digest) ? { kind: 'status', status: 404 } : undefined);
  r = await berth(root, ['pull', `${proxy.host}/test/faults:v1`]);
  proxy.fault = () => undefined;
  assert.equal(r.code, 125);
  assert.match(r.stderr, new RegExp(`fetch blob ${img.layers[2].digest}: registry answered 404`));
  assertNothingStored(root);

  root = scope.mkdtemp('root');
  const huge = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: img.config, layers: [], pad: 'x'.repeat(5 << 20) }));
  proxy.fault = (m, p) => (m === 'GET' && p.includes('/manifests/') ? { kind: 'body', body: huge, contentType: 'application/vnd.oci.image.manifest.v1+json' } : undefined);
  r = await berth(root, ['pull', `${proxy.host}/test/faults:v1`]);
  proxy.fault = () => undefined;
  assert.equal(r.code, 125);
  assert.match(r.stderr, /over the 4194304-byte limit/);
  assertNothingStored(root);

  root = scope.mkdtemp('root');
  proxy.fault = (m, p) => (m === 'GET' && p.includes('/manifests/') ? { kind: 'body', body: Buffer.from('{"schemaVersion":2,'), contentType: 'application/vnd.oci.image.manifest.v1+json' } : undefined);
  r = await berth(root, ['pull', `${proxy.host}/test/faults:v1`]);
  proxy.fault = () => undefined;
  assert.equal(r.code, 125);
  assert.match(r.stderr, /malformed JSON|not JSON/);
  assertNothingStored(root);
});
