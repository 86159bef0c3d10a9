// Escapes that need the runtime's own verbs or a crafted bundle: CVE-2019-5736 (a container
// process racing an exec to overwrite the helper that enters the container) and CVE-2025-31133
// (something other than the null device at /dev/null when masking). Against berth-runtime
// (or BERTH_TEST_RUNTIME).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CAPABILITIES } from '../../../src/engine/defaults.js';
import { Bundle, RuntimeCli, Scope, leakCheckFile, repoRoot } from '../../harness/index.js';

const scope = new Scope('security-runtime');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);
let probe: string;

function bundleWithProbe(args: string[]): Bundle {
  const b = Bundle.create(scope, { readonlyRoot: false }).args(...args);
  copyFileSync(probe, join(b.rootfs, 'probe'));
  chmodSync(join(b.rootfs, 'probe'), 0o755);
  // docker's default capabilities, setuid programs allowed: the setting runc's CVE was about
  const caps = [...DEFAULT_CAPABILITIES];
  b.capabilities({ bounding: caps, effective: caps, permitted: caps });
  return b.update((s) => void (s.process!.noNewPrivileges = false));
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

test('setup: build the probe', () => {
  const out = join(scope.mkdtemp('probe'), 'probe');
  execFileSync('gcc', ['-static', '-O2', '-Wall', '-pthread', '-o', out, join(repoRoot(), 'test/integration/security/probe.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
  probe = out;
});

test('CVE-2019-5736: a container process cannot overwrite the helper through /proc/PID/exe while execs race', async (t) => {
  const b = bundleWithProbe(['/probe', 'exe-race', '15']);
  // the classic trigger: an exec of a file whose interpreter is /proc/self/exe makes the
  // helper re-run itself inside the container
  writeFileSync(join(b.rootfs, 'evil'), '#!/proc/self/exe\n');
  chmodSync(join(b.rootfs, 'evil'), 0o755);
  const host = [join(repoRoot(), 'native/build/berth-init'), join(repoRoot(), 'native/build/berth-monitor'), join(repoRoot(), 'dist/bin/berth-runtime.mjs'), process.execPath].filter((p) => existsSync(p));
  const before = host.map(sha);
  const id = scope.uid();
  const r = await rt.runDetached(id, b.dir);
  assert.equal(r.code, 0, r.stderr);
  // exec until the probe has caught a helper (it stops a second later) or 12 s passed
  const end = Date.now() + 12_000;
  let execs = 0;
  while (Date.now() < end && !rt.output(id).includes('exe pid=')) {
    await Promise.all([rt.run(['exec', id, '/evil']), rt.run(['exec', id, '/evil']), rt.run(['exec', id, '/bin/true'])]);
    execs += 3;
  }
  await rt.waitStatus(id, 'stopped', 15_000);
  const out = rt.output(id);
  t.diagnostic(out.trim().split('\n').slice(0, 6).join(' | '));
  assert.match(out, /exe-race seen=\d+ writable=0\n/, out);
  assert.ok(Number(/seen=(\d+)/.exec(out)![1]) >= 1, `the probe saw the exec'd helpers (${execs} execs)\n${out}`);
  assert.doesNotMatch(out, /write=ok/);
  assert.deepEqual(host.map(sha), before, 'host binaries unchanged');
  await rt.ok(['delete', id]);
});

test('CVE-2025-31133: a /dev/null that is not the null device is refused', async () => {
  const b = bundleWithProbe(['/probe', 'read', '/proc/keys']);
  // a bind mount puts a writable host file at /dev/null (as a shared volume swapped by another
  // container would): masking must not bind it over /proc/keys and friends
  const planted = join(scope.mkdtemp('planted'), 'file');
  writeFileSync(planted, 'host data\n');
  b.mount({ destination: '/dev/null', type: 'bind', source: planted, options: ['bind'] });
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.notEqual(r.code, 0, r.stdout);
  // refused by the device step (a mount point cannot be replaced by the node) or, should
  // something swap it later, by the masking step's check for char 1:3
  assert.match(r.stderr, /\/dev\/null/);
  assert.equal(readFileSync(planted, 'utf8'), 'host data\n');
});

test('CVE-2025-31133: /dev/null swapped for a symlink after the devices are made is refused by the masking step', async () => {
  const b = bundleWithProbe(['/probe', 'read', '/proc/keys']);
  // a createContainer hook runs in the container's mount namespace after the devices were
  // created and before the masking: it plays the other container of the real attack, which
  // swaps /dev/null through a shared mount at that moment
  b.hook('createContainer', { path: '/bin/sh', args: ['sh', '-c', `rm -f ${b.rootfs}/dev/null && ln -s /proc/sys/kernel/core_pattern ${b.rootfs}/dev/null`] });
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /masked paths: \/dev\/null is not the null device/);
});
