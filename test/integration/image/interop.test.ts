// Interoperability both ways: berth push -> skopeo inspect/copy; skopeo- and umoci-written
// images -> berth pull/load; save/load round trips (docker-archive and OCI layout) that
// skopeo reads; login/logout against a registry with basic auth; rmi of an image in use.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Scope, exec, execOk, leakCheckFile, startRegistry, type Registry } from '../../harness/index.js';
import { findImage, openImageDeps, releaseImage, useImage } from '../../../src/image/index.js';
import { berth } from './_berth.js';
import { Layout, busyboxEntries, noise, type BuiltImage } from './_layout.js';
import { startTokenRegistry } from './_token.js';

const scope = new Scope('image-interop');
leakCheckFile(scope);

let reg: Registry;
let img: BuiltImage;
const skopeo = (args: string[]) => execOk('skopeo', args, { timeoutMs: 60_000 });

test('setup: registry and a 3-layer image', async () => {
  reg = await startRegistry(scope);
  const l = new Layout(scope.mkdtemp('layout'));
  img = await l.image(
    [
      { entries: busyboxEntries() },
      { entries: [{ path: 'opt/', type: 'dir' }, { path: 'opt/blob', type: 'file', content: noise(2 << 20, 'interop') }], compression: 'zstd' },
      { entries: [{ path: 'opt/hello', type: 'file', content: 'hello\n' }], compression: 'none' },
    ],
    { tag: 'v1' },
  );
  await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', `oci:${l.dir}:v1`, `docker://${reg.host}/src/app:v1`]);
  // gzip only: docker archives cannot hold zstd layers.
  await l.image([{ entries: busyboxEntries() }, { entries: [{ path: 'etc/motd', type: 'file', content: 'hi\n' }] }], { tag: 'gz' });
  await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', `oci:${l.dir}:gz`, `docker://${reg.host}/src/plain:gz`]);
});

test('berth push: skopeo inspects and copies what berth pushed; mounts within a registry; chunked uploads', async () => {
  const root = scope.mkdtemp('root');
  assert.equal((await berth(root, ['pull', `${reg.host}/src/app:v1`])).code, 0);
  assert.equal((await berth(root, ['tag', `${reg.host}/src/app:v1`, `${reg.host}/dst/app:v2`])).code, 0);
  const p = await berth(root, ['push', `${reg.host}/dst/app:v2`]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal((p.stdout.match(/Mounted from another repository/g) ?? []).length, 4, p.stdout);
  const ins = JSON.parse((await skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/dst/app:v2`])).stdout);
  assert.equal(ins.Digest, img.manifest.digest);
  assert.deepEqual(ins.Layers, img.layers.map((l) => l.digest));
  const again = await berth(root, ['push', `${reg.host}/dst/app:v2`]);
  assert.equal((again.stdout.match(/Layer already exists/g) ?? []).length, 4, again.stdout);

  // A second, empty registry: real uploads, in chunks.
  const reg2 = await startRegistry(scope);
  assert.equal((await berth(root, ['tag', `${reg.host}/src/app:v1`, `${reg2.host}/chunked/app:v3`])).code, 0);
  const c = await berth(root, ['push', '--chunk-size', '500000', `${reg2.host}/chunked/app:v3`]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((c.stdout.match(/Pushed/g) ?? []).length, 4, c.stdout);
  const out = scope.mkdtemp('copied');
  await skopeo(['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', `docker://${reg2.host}/chunked/app:v3`, `oci:${out}:v3`]);
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].digest, img.manifest.digest);
});

test('an image umoci wrote (manifest without mediaType) is pulled and loaded by berth', async () => {
  const work = scope.mkdtemp('umoci');
  const layout = join(work, 'layout');
  await execOk('umoci', ['init', '--layout', layout]);
  await execOk('umoci', ['new', '--image', `${layout}:u1`]);
  const bundle = join(work, 'bundle');
  await execOk('umoci', ['unpack', '--rootless', '--image', `${layout}:u1`, bundle]);
  mkdirSync(join(bundle, 'rootfs/bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(bundle, 'rootfs/bin/busybox'));
  chmodSync(join(bundle, 'rootfs/bin/busybox'), 0o755);
  writeFileSync(join(bundle, 'rootfs/hello'), 'from umoci\n');
  await execOk('umoci', ['repack', '--image', `${layout}:u1`, bundle]);
  await execOk('umoci', ['config', '--image', `${layout}:u1`, '--config.cmd', '/bin/busybox']);
  await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:u1`, `docker://${reg.host}/umoci/app:u1`]);
  const root = scope.mkdtemp('root');
  const r = await berth(root, ['pull', `${reg.host}/umoci/app:u1`]);
  assert.equal(r.code, 0, r.stderr);
  const tarball = join(work, 'layout.tar');
  await execOk('tar', ['-C', layout, '-cf', tarball, '.']);
  const root2 = scope.mkdtemp('root');
  const l = await berth(root2, ['load', '-i', tarball]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, /Loaded image: localhost\/image:u1/);
  const a = JSON.parse((await berth(root, ['image', 'inspect', `${reg.host}/umoci/app:u1`])).stdout)[0];
  const b = JSON.parse((await berth(root2, ['image', 'inspect', 'localhost/image:u1'])).stdout)[0];
  assert.equal(a.Id, b.Id);
  assert.deepEqual(a.Config.Cmd, ['/bin/busybox']);
});

test('save and load: docker-archive and OCI layout tars round-trip and skopeo reads them', async () => {
  const root = scope.mkdtemp('root');
  const ref = `${reg.host}/src/app:v1`;
  assert.equal((await berth(root, ['pull', ref])).code, 0);
  const dir = scope.mkdtemp('archives');
  const docker = join(dir, 'docker.tar');
  const oci = join(dir, 'oci.tar');
  const s1 = await berth(root, ['save', '-o', docker, ref]);
  assert.equal(s1.code, 0, s1.stderr);
  const s2 = await berth(root, ['save', '--format', 'oci', '-o', oci, ref]);
  assert.equal(s2.code, 0, s2.stderr);
  const di = JSON.parse((await skopeo(['inspect', `docker-archive:${docker}`])).stdout);
  assert.deepEqual(di.RepoTags ?? [], di.RepoTags ?? []);
  assert.equal(di.Layers.length, 3);
  const oi = JSON.parse((await skopeo(['inspect', `oci-archive:${oci}:v1`])).stdout);
  assert.equal(oi.Digest, img.manifest.digest);
  for (const file of [docker, oci]) {
    const r2 = scope.mkdtemp('root');
    const l = await berth(r2, ['load', '-i', file]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, new RegExp(`Loaded image: ${reg.host}/src/app:v1`));
    const [info] = JSON.parse((await berth(r2, ['image', 'inspect', ref])).stdout);
    assert.equal(info.Id, img.config.digest);
    assert.deepEqual(info.RootFS.Layers, img.layers.map((x) => x.diffId));
    assert.deepEqual(readdirSync(join(r2, 'tmp')), [], 'no temp dirs left by load');
  }
  // A skopeo-written docker-archive loads too.
  const sk = join(dir, 'skopeo.tar');
  const plain = `${reg.host}/src/plain:gz`;
  await skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${plain}`, `docker-archive:${sk}:${plain}`]);
  const r3 = scope.mkdtemp('root');
  const l3 = await berth(r3, ['load', '-i', sk]);
  assert.equal(l3.code, 0, l3.stderr);
  const skInfo = JSON.parse((await skopeo(['inspect', '--tls-verify=false', `docker://${plain}`])).stdout);
  const [loaded] = JSON.parse((await berth(r3, ['image', 'inspect', plain])).stdout);
  assert.equal(loaded.RootFS.Layers.length, skInfo.Layers.length);
  // Hostile archives: an entry climbing out, and garbage.
  const bad = join(dir, 'bad.tar');
  await execOk('tar', ['-C', dir, '-cf', bad, '--transform', 's|^|../|', 'docker.tar']);
  const r4 = scope.mkdtemp('root');
  const lb = await berth(r4, ['load', '-i', bad]);
  assert.equal(lb.code, 125);
  assert.match(lb.stderr, /points outside the archive/);
  assert.deepEqual(readdirSync(join(r4, 'tmp')), []);
  assert.ok(!existsSync(join(r4, 'content/blobs/sha256')) || readdirSync(join(r4, 'content/blobs/sha256')).length === 0);
  // An OCI archive whose last layer lies about its digest: nothing of it stays.
  const lay = scope.mkdtemp('badlayout');
  await execOk('tar', ['-C', lay, '-xf', oci]);
  const last = img.layers[img.layers.length - 1].digest.slice(7);
  const bytes = readFileSync(join(lay, 'blobs/sha256', last));
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(join(lay, 'blobs/sha256', last), bytes);
  const badOci = join(dir, 'bad-oci.tar');
  await execOk('tar', ['-C', lay, '-cf', badOci, '.']);
  const r5 = scope.mkdtemp('root');
  const l5 = await berth(r5, ['load', '-i', badOci]);
  assert.equal(l5.code, 125);
  assert.match(l5.stderr, /digest mismatch/);
  assert.deepEqual(readdirSync(join(r5, 'content/blobs/sha256')), []);
  assert.deepEqual(readdirSync(join(r5, 'tmp')), []);
  assert.deepEqual(readdirSync(join(r5, 'snapshots/overlay')).filter((n) => n !== 'l'), []);
  assert.equal((await berth(r5, ['images', '-q'])).stdout, '');
});

test('login, pull with credentials, logout', async () => {
  const auth = { username: 'berth', password: 's3cret' };
  const areg = await startRegistry(scope, { auth });
  await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', 'berth:s3cret', `docker://${reg.host}/src/app:v1`, `docker://${areg.host}/priv/app:v1`].map((a) => a.replace('--quiet', '--src-tls-verify=false')));
  const root = scope.mkdtemp('root');
  const cfgDir = scope.mkdtemp('docker-config');
  const env = { ...process.env, DOCKER_CONFIG: cfgDir };
  const denied = await berth(root, ['pull', `${areg.host}/priv/app:v1`], { env });
  assert.equal(denied.code, 125);
  assert.match(denied.stderr, /registry answered 401/);
  const wrong = await berth(root, ['login', '-u', 'berth', '--password-stdin', areg.host], { env, input: 'nope\n' });
  assert.equal(wrong.code, 125);
  assert.ok(!existsSync(join(cfgDir, 'config.json')));
  const ok = await berth(root, ['login', '-u', 'berth', '--password-stdin', areg.host], { env, input: 's3cret\n' });
  assert.equal(ok.code, 0, ok.stderr);
  const cfg = JSON.parse(readFileSync(join(cfgDir, 'config.json'), 'utf8'));
  assert.equal(Buffer.from(cfg.auths[areg.host].auth, 'base64').toString(), 'berth:s3cret');
  const pulled = await berth(root, ['pull', `${areg.host}/priv/app:v1`], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  const out = await berth(root, ['logout', areg.host], { env });
  assert.match(out.stdout, /Removing login credentials/);
  assert.deepEqual(JSON.parse(readFileSync(join(cfgDir, 'config.json'), 'utf8')).auths, {});
});

test('Bearer token flow: login, push and pull through a token server, tokens cached per scope', async () => {
  const user = { username: 'tok', password: 'tokpass' };
  const treg = await startTokenRegistry(scope, user);
  const root = scope.mkdtemp('root');
  const env = { ...process.env, DOCKER_CONFIG: scope.mkdtemp('docker-config') };
  assert.equal((await berth(root, ['pull', `${reg.host}/src/app:v1`], { env })).code, 0);
  assert.equal((await berth(root, ['tag', `${reg.host}/src/app:v1`, `${treg.host}/team/app:t1`], { env })).code, 0);
  const anon = await berth(root, ['push', `${treg.host}/team/app:t1`], { env });
  assert.equal(anon.code, 125);
  assert.match(anon.stderr, /get token for .*registry answered 401/);
  const login = await berth(root, ['login', '-u', user.username, '-p', user.password, treg.host], { env });
  assert.equal(login.code, 0, login.stderr);
  treg.tokenRequests.length = 0;
  const p = await berth(root, ['push', `${treg.host}/team/app:t1`], { env });
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(treg.tokenRequests, [['repository:team/app:pull,push']], 'one token for the whole push');
  const root2 = scope.mkdtemp('root');
  treg.tokenRequests.length = 0;
  const pulled = await berth(root2, ['pull', `${treg.host}/team/app:t1`], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.deepEqual(treg.tokenRequests, [['repository:team/app:pull']], 'one token for the whole pull');
  const ins = JSON.parse((await berth(root2, ['image', 'inspect', `${treg.host}/team/app:t1`])).stdout)[0];
  assert.equal(ins.Id, img.config.digest);
});

test('rmi refuses an image in use; --force untags it and GC keeps its content while in use', async () => {
  const root = scope.mkdtemp('root');
  const ref = `${reg.host}/src/app:v1`;
  assert.equal((await berth(root, ['pull', ref])).code, 0);
  const deps = openImageDeps(root);
  const local = await findImage(deps, ref);
  useImage(deps, 'container/test1', local);
  const r = await berth(root, ['rmi', ref]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /in use by container\/test1/);
  const f = await berth(root, ['rmi', '--force', ref]);
  assert.equal(f.code, 0, f.stderr);
  const blobs = readdirSync(join(root, 'content/blobs/sha256'));
  for (const d of [local.manifestDesc.digest, local.configDesc.digest, ...local.manifest.layers.map((l) => l.digest)]) assert.ok(blobs.includes(d.slice(7)), d);
  releaseImage(deps, 'container/test1');
  const p = await berth(root, ['image', 'prune']);
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(readdirSync(join(root, 'content/blobs/sha256')), []);
  const ex = await exec('sh', ['-c', `ls ${join(root, 'snapshots/overlay')} | grep -v '^l$' | wc -l`]);
  assert.equal(ex.stdout.trim(), '0');
});
