// Error paths: a bad config fails with a message naming what is wrong, and leaves nothing
// behind (the file's leak check covers mounts, cgroups and processes).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, leakCheckFile, runtimeName } from '../../harness/index.js';
import type { Spec } from '../../../src/spec/runtime.js';

const scope = new Scope('runtime-errors');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

/** `messageNote`: the runtime under test is runc, which does not name it; only the refusal is checked. */
async function expectRefused(b: Bundle, pattern: RegExp, what: string, messageNote?: string): Promise<void> {
  for (const verb of ['create', 'run'] as const) {
    const id = scope.uid();
    const r = verb === 'create' ? await rt.create(id, b.dir) : await rt.runForeground(id, b.dir);
    if (r.code === 0) await rt.delete(id, true);
    assert.notEqual(r.code, 0, `${verb} with ${what} must fail`);
    if (!messageNote) assert.match(r.stderr, pattern, `${verb} with ${what}: the message names it`);
    assert.notEqual((await rt.run(['state', id])).code, 0, `${verb} with ${what}: no container left`);
    assert.ok(!(await rt.list()).some((c) => c.id === id), `${verb} with ${what}: not listed`);
  }
}

// The fourth field notes where runc 1.1 is more lenient than the spec (those cases skip on runc).
const cases: [string, (s: Spec) => void, RegExp, string?][] = [
  ['an unknown rlimit type', (s) => void (s.process!.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]), /RLIMIT_BOGUS/],
  [
    'an unknown capability',
    (s) => void (s.process!.capabilities!.bounding = ['CAP_BOGUS']),
    /CAP_BOGUS/,
    'runc 1.1 ignores unknown capabilities (with a warning)',
  ],
  ['an unknown namespace type', (s) => void s.linux!.namespaces!.push({ type: 'bogusns' as never }), /bogusns/],
  [
    'a relative mount destination',
    (s) => void s.mounts!.push({ destination: 'relative/dest', type: 'tmpfs', source: 'tmpfs' }),
    /relative\/dest/,
    'runc 1.1 accepts relative destinations (the spec says MUST be absolute)',
  ],
  ['a missing rootfs', (s) => void (s.root!.path = 'no-such-rootfs'), /no-such-rootfs/],
  ['a namespace path that does not exist', (s) => void (s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/berth-no-such-ns' } : n))), /berth-no-such-ns/],
  ['no process.args', (s) => void (s.process!.args = []), /args/],
];

for (const [what, edit, pattern, runcNote] of cases) {
  test(`config.json with ${what} is refused with a message that names it`, async (t) => {
    if (runcNote && runtimeName() === 'runc') return t.skip(runcNote);
    await expectRefused(Bundle.create(scope).update(edit), pattern, what);
  });
}

test('a config.json that is not JSON is refused', async () => {
  const b = Bundle.create(scope);
  writeFileSync(b.configPath, '{"ociVersion": "1.0.2", ');
  const note = runtimeName() === 'runc' ? 'runc 1.1 says only "unexpected EOF"' : undefined;
  await expectRefused(b, /config\.json/, 'broken JSON', note);
});

test('a bundle without config.json is refused', async () => {
  const dir = scope.mkdtemp('empty-bundle');
  const id = scope.uid();
  const r = await rt.create(id, dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /config\.json/);
});

test('cwd /proc/self/fd/7 (a leaked host fd, CVE-2024-21626) fails cleanly', async () => {
  const b = Bundle.create(scope).cwd('/proc/self/fd/7');
  const id = scope.uid();
  const r = await rt.runForeground(id, b.dir);
  assert.notEqual(r.code, 0, `must not start in a host directory: ${r.stdout.slice(0, 300)}`);
  assert.doesNotMatch(r.stdout, /"pid"/, 'the checker never ran');
  assert.notEqual((await rt.run(['state', id])).code, 0, 'no container left');
});

test('a cwd that is not a directory fails', async () => {
  const b = Bundle.create(scope).cwd('/etc/passwd');
  const id = scope.uid();
  const r = await rt.runForeground(id, b.dir);
  assert.notEqual(r.code, 0);
  assert.notEqual((await rt.run(['state', id])).code, 0, 'no container left');
});
