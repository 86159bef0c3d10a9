// The process fields of config.json, seen from inside: capabilities, rlimits, user, groups,
// umask, cwd, env, no_new_privs, oom_score_adj.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bundle, RuntimeCli, Scope, decodeCaps, describe as show, leakCheckFile } from '../../harness/index.js';

const scope = new Scope('runtime-process');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

const sorted = (a: string[]): string[] => [...a].sort();

test('root: capabilities of the spec (bounding = effective = permitted), none else', async () => {
  const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'];
  const b = Bundle.create(scope).capabilities({ bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] });
  const rep = await rt.report(b.dir);
  assert.deepEqual(decodeCaps(rep.capabilities.CapBnd), sorted(caps));
  assert.deepEqual(decodeCaps(rep.capabilities.CapEff), sorted(caps));
  assert.deepEqual(decodeCaps(rep.capabilities.CapPrm), sorted(caps));
  assert.deepEqual(decodeCaps(rep.capabilities.CapInh), []);
  assert.deepEqual(decodeCaps(rep.capabilities.CapAmb), []);
});

test('non-root: all five sets as the kernel defines them across execve', async () => {
  // capabilities(7): for a non-root execve of a file without file capabilities,
  // P'(permitted) = P'(effective) = P'(ambient) = P(ambient); inheritable and bounding stay.
  const b = Bundle.create(scope)
    .user({ uid: 1000, gid: 1000 })
    .capabilities({
      bounding: ['CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID'],
      permitted: ['CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
      effective: ['CAP_AUDIT_WRITE', 'CAP_KILL'],
      inheritable: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_RAW'],
      ambient: ['CAP_KILL', 'CAP_NET_RAW'],
    });
  const rep = await rt.report(b.dir);
  assert.deepEqual(decodeCaps(rep.capabilities.CapBnd), ['CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID']);
  assert.deepEqual(decodeCaps(rep.capabilities.CapInh), ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_RAW']);
  assert.deepEqual(decodeCaps(rep.capabilities.CapAmb), ['CAP_KILL', 'CAP_NET_RAW']);
  assert.deepEqual(decodeCaps(rep.capabilities.CapPrm), ['CAP_KILL', 'CAP_NET_RAW']);
  assert.deepEqual(decodeCaps(rep.capabilities.CapEff), ['CAP_KILL', 'CAP_NET_RAW']);
});

test('the default spec drops everything but its three capabilities', async () => {
  const rep = await rt.report(Bundle.create(scope).dir);
  const three = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  assert.deepEqual(decodeCaps(rep.capabilities.CapBnd), three);
  assert.deepEqual(decodeCaps(rep.capabilities.CapEff), three);
  assert.equal(rep.noNewPrivs, 1, 'noNewPrivileges: true');
});

test('noNewPrivileges false leaves no_new_privs off', async () => {
  const rep = await rt.report(Bundle.create(scope).update((s) => void (s.process!.noNewPrivileges = false)).dir);
  assert.equal(rep.noNewPrivs, 0);
});

test('rlimits are set (soft and hard), within this machine hard limits', async () => {
  const b = Bundle.create(scope).rlimit('RLIMIT_NOFILE', 1234, 4567).rlimit('RLIMIT_CORE', 0, 0).rlimit('RLIMIT_NPROC', 500, 600).rlimit('RLIMIT_MSGQUEUE', 4096, 8192);
  const rep = await rt.report(b.dir);
  assert.deepEqual(rep.rlimits.RLIMIT_NOFILE, { soft: 1234, hard: 4567 });
  assert.deepEqual(rep.rlimits.RLIMIT_CORE, { soft: 0, hard: 0 });
  assert.deepEqual(rep.rlimits.RLIMIT_NPROC, { soft: 500, hard: 600 });
  assert.deepEqual(rep.rlimits.RLIMIT_MSGQUEUE, { soft: 4096, hard: 8192 });
});

test('an rlimit above the hard limit of the caller fails (no CAP_SYS_RESOURCE here)', async (t) => {
  const hard = Number((await import('node:child_process')).execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  if (!Number.isFinite(hard)) return t.skip('the hard nofile limit is unlimited here');
  const b = Bundle.create(scope).rlimit('RLIMIT_NOFILE', hard + 1, hard + 1);
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.notEqual(r.code, 0, 'raising the hard limit needs CAP_SYS_RESOURCE');
  assert.match(r.stderr, /rlimit|RLIMIT_NOFILE|operation not permitted/i, show(r));
});

test('user: uid, gid, additional gids, umask', async () => {
  const b = Bundle.create(scope).user({ uid: 1000, gid: 1001, additionalGids: [5, 2000], umask: 0o027 });
  const rep = await rt.report(b.dir);
  assert.equal(rep.uid, 1000);
  assert.equal(rep.euid, 1000);
  assert.equal(rep.gid, 1001);
  assert.equal(rep.egid, 1001);
  assert.deepEqual([...rep.groups].sort((a, b) => a - b), [5, 2000]);
  assert.equal(rep.umask, 0o027);
});

test('root keeps uid 0 and the default umask 0022', async () => {
  const rep = await rt.report(Bundle.create(scope).dir);
  assert.equal(rep.uid, 0);
  assert.equal(rep.gid, 0);
  assert.equal(rep.umask, 0o022);
});

test('cwd and env come from the spec', async () => {
  const b = Bundle.create(scope).cwd('/etc').env('FOO=bar', 'EMPTY=', 'SPACED=a b', 'ESC=q"b\\s\tt\nn');
  const rep = await rt.report(b.dir);
  assert.equal(rep.cwd, '/etc');
  for (const e of ['FOO=bar', 'EMPTY=', 'SPACED=a b', 'ESC=q"b\\s\tt\nn', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'])
    assert.ok(rep.env.includes(e), `env has ${e}: ${rep.env.join(' | ')}`);
  // runc adds HOME (from /etc/passwd) when the spec has none; nothing else may appear.
  const extra = rep.env.filter((e) => !['FOO', 'EMPTY', 'SPACED', 'ESC', 'PATH', 'TERM', 'HOME'].includes(e.split('=')[0]));
  assert.deepEqual(extra, [], 'no variables of the runtime leak into the container');
});

test('args are passed exactly, a missing binary fails the run', async () => {
  const b = Bundle.create(scope).args('sh', '-c', 'printf "%s|" "$@"', 'zero', 'a b', '', '"q"');
  const r = await rt.runForeground(scope.uid(), b.dir);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'a b||"q"|');
  const missing = await rt.runForeground(scope.uid(), Bundle.create(scope).args('/no/such/binary').dir);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no\/such\/binary|no such file/i, show(missing));
});

test('oomScoreAdj is applied', async () => {
  const rep = await rt.report(Bundle.create(scope).update((s) => void (s.process!.oomScoreAdj = 123)).dir);
  assert.equal(rep.oomScoreAdj, 123);
});
