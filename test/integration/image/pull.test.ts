// berth pull / images / inspect / tag / rmi against a real registry (Debian's docker-registry)
// with images written here and pushed by skopeo.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Scope, execOk, leakCheckFile, startRegistry, type Registry } from '../../harness/index.js';
import { berth } from './_berth.js';
import { Layout, busyboxEntries, noise, type BuiltImage } from './_layout.js';

const scope = new Scope('image-pull');
leakCheckFile(scope);

let reg: Registry;
let multi: BuiltImage;
let amd64: BuiltImage;
let arm64: BuiltImage;

async function push(layout: Layout, tag: string, repo: string): Promise<string> {
  const ref = `${reg.host}/${repo}:${tag}`;
  await execOk('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', `oci:${layout.dir}:${tag}`, `docker://${ref}`], { timeoutMs: 60_000 });
  return ref;
}

function blobFiles(root: string): string[] {
  const dir = join(root, 'content/blobs/sha256');
  return existsSync(dir) ? readdirSync(dir) : [];
}

function assertStoreConsistent(root: string): void {
  for (const hex of blobFiles(root)) {
    const got = createHash('sha256').update(readFileSync(join(root, 'content/blobs/sha256', hex))).digest('hex');
    assert.equal(got, hex, `blob ${hex} does not match its name`);
  }
}

test('setup: registry and images', async () => {
  reg = await startRegistry(scope);
  const l = new Layout(scope.mkdtemp('layout'));
  await l.image([{ entries: busyboxEntries() }], { tag: 'busybox' });
  multi = await l.image(
    [
      { entries: busyboxEntries(), compression: 'gzip' },
      { entries: [{ path: 'data/', type: 'dir' }, { path: 'data/big', type: 'file', content: noise(3 << 20, 'big') }], compression: 'zstd' },
      { entries: [{ path: 'data/plain', type: 'file', content: 'plain layer\n' }], compression: 'none' },
      { entries: [{ path: 'data/more', type: 'file', content: noise(1 << 20, 'more') }], compression: 'gzip' },
    ],
    { tag: 'multi' },
  );
  amd64 = await l.image([{ entries: [{ path: 'arch', type: 'file', content: 'amd64\n' }] }], { arch: 'amd64' });
  arm64 = await l.image([{ entries: [{ path: 'arch', type: 'file', content: 'arm64\n' }] }], { arch: 'arm64', variant: 'v8' });
  l.index([{ image: arm64, arch: 'arm64', variant: 'v8' }, { image: amd64, arch: 'amd64' }], 'multiarch');
  await push(l, 'busybox', 'test/busybox');
  await execOk('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', `oci:${l.dir}:busybox`, `docker://${reg.host}/library/busybox:latest`], { timeoutMs: 60_000 });
  await push(l, 'multi', 'test/multi');
  await execOk('skopeo', ['copy', '--quiet', '--all', '--dest-tls-verify=false', '--preserve-digests', `oci:${l.dir}:multiarch`, `docker://${reg.host}/test/arch:1`], { timeoutMs: 60_000 });
});

test('pull stores a single-layer image; a second pull fetches nothing', async () => {
  const root = scope.mkdtemp('root');
  const ref = `${reg.host}/test/busybox:busybox`;
  const r = await berth(root, ['pull', ref]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Downloaded newer image/);
  assert.match(r.stdout, /downloaded/);
  const again = await berth(root, ['pull', ref]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Image is up to date/);
  assert.doesNotMatch(again.stdout, /downloading/);
  const ls = await berth(root, ['images', '--format', 'json']);
  const rows = ls.stdout.trim().split('\n').map((x) => JSON.parse(x));
  assert.equal(rows.length, 1);
  assert.equal(rows[0].Repository, `${reg.host}/test/busybox`);
  assert.equal(rows[0].Tag, 'busybox');
  const digests = await berth(root, ['images', '--digests']);
  assert.match(digests.stdout, new RegExp(rows[0].Digest));
  // By digest, also with a tag beside it (recorded by digest alone, as docker does).
  const byDigest = await berth(root, ['pull', '-q', `${reg.host}/test/busybox:busybox@${rows[0].Digest}`]);
  assert.equal(byDigest.code, 0, byDigest.stderr);
  assert.equal(byDigest.stdout.trim(), `${reg.host}/test/busybox@${rows[0].Digest}`);
  const tags = (await berth(root, ['images', '--format', 'json'])).stdout.trim().split('\n').map((x) => JSON.parse(x).Tag);
  assert.deepEqual(tags.sort(), ['<none>', 'busybox']);
  assert.equal((await berth(root, ['rmi', `${reg.host}/test/busybox@${rows[0].Digest}`])).code, 0);
  const wrong = await berth(root, ['pull', `${reg.host}/test/busybox@sha256:${'0'.repeat(64)}`]);
  assert.equal(wrong.code, 125);
  assert.match(wrong.stderr, /busybox@sha256:0+: registry answered 404/);
  assertStoreConsistent(root);
  assert.equal(blobFiles(root).length, 3);
});

test('pull of a multi-layer image with gzip, zstd and uncompressed layers; tag, inspect, rmi', async () => {
  const root = scope.mkdtemp('root');
  const ref = `${reg.host}/test/multi:multi`;
  const r = await berth(root, ['pull', ref]);
  assert.equal(r.code, 0, r.stderr);
  assertStoreConsistent(root);
  for (const l of multi.layers) assert.ok(existsSync(join(root, 'content/blobs/sha256', l.digest.slice(7))), l.digest);
  assert.equal((await berth(root, ['tag', ref, 'local/multi:v1'])).code, 0);
  const ins = await berth(root, ['image', 'inspect', 'local/multi:v1']);
  assert.equal(ins.code, 0, ins.stderr);
  const [info] = JSON.parse(ins.stdout);
  assert.equal(info.Id, multi.config.digest);
  assert.deepEqual(info.RootFS.Layers, multi.layers.map((l) => l.diffId));
  assert.deepEqual(new Set(info.RepoTags), new Set([`${reg.host}/test/multi:multi`, 'local/multi:v1']));
  // By id with two names: refused without --force.
  const byId = await berth(root, ['rmi', multi.config.digest.slice(7, 19)]);
  assert.equal(byId.code, 125);
  assert.match(byId.stderr, /referenced by 2 names/);
  assert.equal((await berth(root, ['rmi', 'local/multi:v1'])).code, 0);
  assert.equal(blobFiles(root).length, 6, 'content stays while a name refers to it');
  const rm = await berth(root, ['rmi', ref]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stdout, new RegExp(`Deleted: ${multi.config.digest}`));
  assert.deepEqual(blobFiles(root), [], 'removing the last name frees the blobs');
  const missing = await berth(root, ['image', 'inspect', 'local/multi:v1']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /no such image/);
});

test('platform choice from an index: host default, --platform, and a missing platform', async () => {
  const root = scope.mkdtemp('root');
  const ref = `${reg.host}/test/arch:1`;
  const r = await berth(root, ['pull', ref]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(root, 'content/blobs/sha256', amd64.config.digest.slice(7))));
  assert.ok(!existsSync(join(root, 'content/blobs/sha256', arm64.config.digest.slice(7))));
  const arm = await berth(root, ['pull', '--platform', 'linux/arm64', ref]);
  assert.equal(arm.code, 0, arm.stderr);
  assert.ok(existsSync(join(root, 'content/blobs/sha256', arm64.layers[0].digest.slice(7))));
  const none = await berth(root, ['pull', '--platform', 'linux/s390x', ref]);
  assert.equal(none.code, 125);
  assert.match(none.stderr, /no manifest for platform linux\/s390x \(the index has: linux\/arm64\/v8, linux\/amd64\)/);
  const single = await berth(root, ['pull', '--platform', 'linux/arm64', `${reg.host}/test/busybox:busybox`]);
  assert.equal(single.code, 125);
  assert.match(single.stderr, /the image is for linux\/amd64, not the requested linux\/arm64/);
});

test('malformed references and unknown images are errors with nothing stored', async () => {
  const root = scope.mkdtemp('root');
  for (const bad of ['upper/Case', 'a b', `x@sha256:${'0'.repeat(10)}`]) {
    const r = await berth(root, ['pull', bad]);
    assert.equal(r.code, 125, bad);
    assert.match(r.stderr, /invalid reference/);
  }
  const nf = await berth(root, ['pull', `${reg.host}/test/nothing:here`]);
  assert.equal(nf.code, 125);
  assert.match(nf.stderr, /registry answered 404/);
  assert.deepEqual(blobFiles(root), []);
});

test('a bare name goes to the default registry, here through a configured mirror', async () => {
  const root = scope.mkdtemp('root');
  writeFileSync(join(root, 'config.json'), JSON.stringify({ 'registry-mirrors': [`http://${reg.host}`] }));
  const r = await berth(root, ['pull', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /docker\.io\/library\/busybox:latest/);
  const ls = (await berth(root, ['images', '--format', 'json'])).stdout.trim().split('\n').map((x) => JSON.parse(x));
  assert.deepEqual(ls.map((x) => [x.Repository, x.Tag]), [['busybox', 'latest']]);
  const [info] = JSON.parse((await berth(root, ['image', 'inspect', 'busybox'])).stdout);
  assert.deepEqual(info.RepoTags, ['busybox:latest']);
  assert.equal((await berth(root, ['tag', 'busybox', 'busybox:mine'])).code, 0);
  assert.equal((await berth(root, ['rmi', 'busybox', 'busybox:mine'])).code, 0);
  assert.deepEqual(blobFiles(root), []);
});
