// berth cp both ways: files, dirs, modes, running and stopped containers, tar on stdio, and a
// symlink to / inside the container that must never make cp write on the host.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, chmodSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exec } from '../../harness/index.js';
import { BERTH, engineEnv, leftovers, type EngineEnv } from '../engine/_env.js';

const { ready, scope } = engineEnv('io-cp');
let e: EngineEnv;
let host: string;

test('setup', async () => {
  e = await ready;
  host = scope.mkdtemp('host');
  await e.ok(['run', '-d', '--name', 'box', e.image, 'sh', '-c',
    'mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && chmod 750 /data/sub && chmod 604 /data/a && ln -sfn a /data/link && ln -sfn / /evil && sleep 1000']);
  for (let i = 0; i < 100 && (await e.berth(['exec', 'box', 'test', '-L', '/evil'])).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
});

test('cp container -> host: a file, a dir (modes, symlinks), contents with /.', async () => {
  await e.ok(['cp', 'box:/data/a', join(host, 'a')]);
  assert.equal(readFileSync(join(host, 'a'), 'utf8'), 'one\n');
  assert.equal(statSync(join(host, 'a')).mode & 0o777, 0o604);
  await e.ok(['cp', 'box:/data', host]);
  assert.equal(readFileSync(join(host, 'data/sub/b'), 'utf8'), 'two\n');
  assert.equal(statSync(join(host, 'data/sub')).mode & 0o777, 0o750);
  assert.equal(readlinkSync(join(host, 'data/link')), 'a');
  await e.ok(['cp', 'box:/data/.', join(host, 'flat')]);
  assert.ok(existsSync(join(host, 'flat/sub/b')));
  const r = await e.berth(['cp', 'box:/nosuch', host]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no such file/i);
});

test('cp host -> container: a file, a dir, modes; into a stopped container', async () => {
  mkdirSync(join(host, 'up/inner'), { recursive: true });
  writeFileSync(join(host, 'up/inner/f'), 'three\n');
  chmodSync(join(host, 'up/inner/f'), 0o741);
  await e.ok(['cp', join(host, 'up'), 'box:/tmp/']);
  assert.equal(await e.ok(['exec', 'box', 'sh', '-c', 'cat /tmp/up/inner/f; stat -c %a /tmp/up/inner/f']), 'three\n741');
  await e.ok(['cp', join(host, 'up/inner/f'), 'box:/renamed']);
  assert.equal(await e.ok(['exec', 'box', 'cat', '/renamed']), 'three');
  await e.ok(['stop', '-t', '0', 'box']);
  writeFileSync(join(host, 'late'), 'late\n');
  await e.ok(['cp', join(host, 'late'), 'box:/late']);
  await e.ok(['cp', 'box:/late', join(host, 'late-back')]);
  assert.equal(readFileSync(join(host, 'late-back'), 'utf8'), 'late\n');
  await e.ok(['start', 'box']);
  const st = await e.berth(['exec', 'box', 'cat', '/late']);
  assert.equal(st.stdout, 'late\n', st.stderr);
});

test('a symlink to / in the container stays inside the container', async () => {
  const marker = `berth-cp-escape-${scope.id}`;
  writeFileSync(join(host, marker), 'x\n');
  // /evil -> / : writing to /evil/tmp/<marker> must land in the container's /tmp
  await e.ok(['cp', join(host, marker), `box:/evil/tmp/${marker}`]);
  assert.equal(existsSync(join('/tmp', marker)), false, 'cp wrote to the host');
  assert.equal(await e.ok(['exec', 'box', 'cat', `/tmp/${marker}`]), 'x');
  // and reading /evil/etc/hostname gives the container's file, not the host's
  await e.ok(['cp', 'box:/evil/etc/passwd', join(host, 'passwd')]);
  assert.equal(readFileSync(join(host, 'passwd'), 'utf8'), await e.ok(['exec', 'box', 'cat', '/etc/passwd']) + '\n');
  // the link itself is copied as a link
  await e.ok(['cp', 'box:/evil', join(host, 'evil')]);
  assert.ok(lstatSync(join(host, 'evil')).isSymbolicLink());
});

test('cp with a tar on stdout and stdin', async () => {
  const out = join(host, 'x.tar');
  await exec('sh', ['-c', `${BERTH} cp box:/data - > ${out}`], { env: e.env });
  const list = await exec('tar', ['-tf', out]);
  assert.match(list.stdout, /data\/sub\/b/);
  const r = await exec('sh', ['-c', `${BERTH} cp - box:/tmp < ${out}`], { env: e.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await e.ok(['exec', 'box', 'cat', '/tmp/data/sub/b']), 'two');
});

test('cleanup', async () => {
  await e.ok(['rm', '-f', 'box']);
  assert.deepEqual(leftovers(e), []);
});
