// berth run's flag groups, checked from inside the container: env, workdir, user, hostname,
// volumes and binds, read-only root, tmpfs, limits (memory/OOM, pids), capabilities.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineEnv, leftovers, type EngineEnv } from './_env.js';

const { scope, ready } = engineEnv('flags');
let e: EngineEnv;

test('setup', async () => {
  e = await ready;
});

test('-e, --env-file, -w, -u, -h, --entrypoint', async () => {
  const envFile = join(scope.mkdtemp('env'), 'vars');
  writeFileSync(envFile, '# comment\nB=from-file\nA=overridden-by-e\n');
  const out = await e.ok([
    'run', '--rm', '--env-file', envFile, '-e', 'A=1', '-w', '/tmp/work', '-u', 'nobody', '-h', 'myhost',
    e.image, 'sh', '-c', 'echo "$A $B"; pwd; id -u; id -g; hostname; cat /etc/hostname; grep myhost /etc/hosts | cut -f2',
  ]);
  assert.deepEqual(out.split('\n'), ['1 from-file', '/tmp/work', '65534', '65534', 'myhost', 'myhost', 'myhost']);
  assert.equal(await e.ok(['run', '--rm', '-u', '1234:5678', e.image, 'sh', '-c', 'echo $(id -u):$(id -g)']), '1234:5678');
  assert.equal(await e.ok(['run', '--rm', '--entrypoint', 'echo', e.image, 'via', 'entrypoint']), 'via entrypoint');
  const r = await e.berth(['run', '--rm', '-w', 'relative', e.image, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /absolute path/);
});

test('named volume survives its container; bind mounts rw and ro; -v with a missing source fails cleanly', async () => {
  await e.ok(['run', '--rm', '-v', 'data:/data', e.image, 'sh', '-c', 'echo kept > /data/f']);
  assert.equal(await e.ok(['run', '--rm', '-v', 'data:/data:ro', e.image, 'cat', '/data/f']), 'kept');
  assert.match(await e.ok(['volume', 'ls']), /local\s+data/);
  const vol = JSON.parse(await e.ok(['volume', 'inspect', 'data']))[0];
  assert.equal(readFileSync(join(vol.Mountpoint, 'f'), 'utf8'), 'kept\n');

  const host = scope.mkdtemp('bind');
  writeFileSync(join(host, 'in'), 'from host\n');
  assert.equal(await e.ok(['run', '--rm', '-v', `${host}:/h`, e.image, 'sh', '-c', 'cat /h/in; echo out > /h/out']), 'from host');
  assert.equal(readFileSync(join(host, 'out'), 'utf8'), 'out\n');
  const ro = await e.berth(['run', '--rm', '--mount', `type=bind,source=${host},target=/h,readonly`, e.image, 'sh', '-c', 'echo x > /h/nope']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  const missing = await e.berth(['run', '--rm', '-v', `${host}/nosuch:/x`, e.image, 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /bind source path does not exist/);
  // in use: a volume cannot go while a container holds it
  await e.ok(['create', '--name', 'holder', '-v', 'data:/data', e.image, 'true']);
  const busy = await e.berth(['volume', 'rm', 'data']);
  assert.notEqual(busy.code, 0);
  assert.match(busy.stderr, /in use/);
  await e.ok(['rm', 'holder']);
  await e.ok(['volume', 'rm', 'data']);
  // anonymous volumes go with rm -v
  await e.ok(['create', '--name', 'anon', '-v', '/scratch', e.image, 'true']);
  assert.equal((await e.ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).length, 1);
  await e.ok(['rm', '-v', 'anon']);
  assert.equal(await e.ok(['volume', 'ls', '-q']), '');
  assert.deepEqual(leftovers(e), []);
});

test('an empty volume gets the image\'s files at its target (owner and mode too); nocopy and a non-empty volume do not', async () => {
  // the image has /etc/passwd and /etc/group: the new volume starts with them
  assert.match(await e.ok(['run', '--rm', '-v', 'seeded:/etc', e.image, 'cat', '/etc/passwd']), /^root:x:0:0:/);
  const mp = async (name: string): Promise<string> => JSON.parse(await e.ok(['volume', 'inspect', name]))[0].Mountpoint;
  const seeded = await mp('seeded');
  assert.match(readFileSync(join(seeded, 'passwd'), 'utf8'), /^root:x:0:0:/);
  // the image's /tmp is empty and 1777: the volume's root takes that mode (a new one is 755)
  await e.ok(['run', '--rm', '-v', 'sticky:/tmp', e.image, 'true']);
  assert.equal((statSync(await mp('sticky')).mode & 0o7777).toString(8), '1777');
  // a volume that holds something is left as it is
  rmSync(join(seeded, 'passwd'));
  writeFileSync(join(seeded, 'mine'), 'x');
  await e.ok(['run', '--rm', '-v', 'seeded:/etc', e.image, 'true']);
  assert.equal(existsSync(join(seeded, 'passwd')), false);
  // nocopy, in both spellings
  await e.ok(['run', '--rm', '-v', 'bare:/etc:nocopy', e.image, 'true']);
  assert.equal(existsSync(join(await mp('bare'), 'passwd')), false);
  await e.ok(['run', '--rm', '--mount', 'type=volume,source=bare2,target=/etc,volume-nocopy', e.image, 'true']);
  assert.equal(existsSync(join(await mp('bare2'), 'passwd')), false);
  // an anonymous volume is seeded the same way
  assert.match(await e.ok(['run', '--rm', '-v', '/etc', e.image, 'cat', '/etc/group']), /^root:x:0:/);
  await e.ok(['volume', 'rm', 'seeded', 'sticky', 'bare', 'bare2']);
  assert.deepEqual(leftovers(e), []);
});

test('--read-only with --tmpfs; --mount type=tmpfs', async () => {
  const r = await e.berth(['run', '--rm', '--read-only', '--tmpfs', '/tmp', e.image, 'sh', '-c', 'echo ok > /tmp/f && cat /tmp/f; touch /etc/x']);
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, 'ok\n');
  assert.match(r.stderr, /Read-only file system/);
  const m = await e.ok(['run', '--rm', '--mount', 'type=tmpfs,target=/scratch,tmpfs-size=1m', e.image, 'sh', '-c', 'grep " /scratch " /proc/mounts']);
  assert.match(m, /tmpfs \/scratch tmpfs .*size=1024k/);
});

test('memory limit: an allocation above it is OOM-killed and inspect says OOMKilled; too small a limit is refused', async () => {
  const name = 'oom';
  const r = await e.berth(['run', '--name', name, '-m', '16m', '--memory-swap', '16m', e.image, 'sh', '-c', 'head -c 200m /dev/zero | tail > /dev/null']);
  assert.equal(r.code, 137, r.stderr);
  const st = JSON.parse(await e.ok(['inspect', name]))[0].State;
  assert.equal(st.OOMKilled, true);
  assert.equal(st.ExitCode, 137);
  assert.equal(JSON.parse(await e.ok(['inspect', name]))[0].HostConfig.Memory, 16 * 1024 * 1024);
  await e.ok(['rm', name]);
  const small = await e.berth(['run', '--rm', '-m', '1k', e.image, 'true']);
  assert.equal(small.code, 125);
  assert.match(small.stderr, /minimum memory limit/);
  assert.equal(await e.ok(['ps', '-aq']), '');
});

test('--pids-limit stops a fork bomb; --cap-drop removes the capability; --privileged has them all', async () => {
  const r = await e.berth(['run', '--rm', '--pids-limit', '4', e.image, 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait']);
  assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
  const capEff = async (args: string[]) => BigInt('0x' + (await e.ok(['run', '--rm', ...args, e.image, 'sh', '-c', 'grep CapEff /proc/self/status | cut -f2'])));
  const dflt = await capEff([]);
  assert.equal(dflt & 1n, 1n, 'CAP_CHOWN by default');
  assert.equal((await capEff(['--cap-drop', 'chown'])) & 1n, 0n);
  assert.equal((await capEff(['--cap-add', 'SYS_ADMIN'])) & (1n << 21n), 1n << 21n);
  assert.ok((await capEff(['--privileged'])) > dflt);
  const chown = await e.berth(['run', '--rm', '--cap-drop', 'CHOWN', e.image, 'chown', 'nobody', '/tmp']);
  assert.notEqual(chown.code, 0);
});

test('seccomp: docker\'s default profile is on; unconfined turns it off', async () => {
  const mode = async (args: string[]) => (await e.ok(['run', '--rm', ...args, e.image, 'sh', '-c', 'grep Seccomp: /proc/self/status | cut -f2']));
  assert.equal(await mode([]), '2');
  assert.equal(await mode(['--security-opt', 'seccomp=unconfined']), '0');
  assert.equal(await mode(['--security-opt', 'no-new-privileges']), '2');
});

test('--network none has only lo (so has the default under BERTH_BRIDGE=none); host shares the host\'s; container: joins another\'s', async () => {
  for (const net of [['--network', 'none'], []]) {
    const links = (await e.ok(['run', '--rm', ...net, e.image, 'sh', '-c', 'ls /sys/class/net'])).split(/\s+/);
    assert.deepEqual(links, ['lo']);
  }
  const hostLinks = (await e.ok(['run', '--rm', '--network', 'host', e.image, 'sh', '-c', 'ls /sys/class/net'])).split(/\s+/);
  assert.ok(hostLinks.length > 1, hostLinks.join(' '));
  await e.ok(['run', '-d', '--name', 'netowner', e.image, 'sleep', '100']);
  const mine = await e.ok(['run', '--rm', '--network', 'container:netowner', e.image, 'readlink', '/proc/self/ns/net']);
  const pid = JSON.parse(await e.ok(['inspect', 'netowner']))[0].State.Pid;
  assert.equal(mine, readlinkNs(pid));
  await e.ok(['rm', '-f', 'netowner']);
});

test('--ulimit, --label, --stop-signal and --restart land in inspect', async () => {
  const out = await e.ok(['run', '--rm', '--ulimit', 'nofile=1000:2000', e.image, 'sh', '-c', 'ulimit -n; ulimit -Hn']);
  assert.deepEqual(out.split('\n'), ['1000', '2000']);
  const too = await e.berth(['run', '--rm', '--ulimit', 'nofile=100000:100000', e.image, 'true']);
  assert.equal(too.code, 125);
  await e.ok(['create', '--name', 'meta', '--label', 'a=b', '--stop-signal', 'SIGUSR1', '--restart', 'on-failure:3', e.image, 'true']);
  const i = JSON.parse(await e.ok(['inspect', 'meta']))[0];
  assert.equal(i.Config.Labels.a, 'b');
  assert.equal(i.Config.StopSignal, 'SIGUSR1');
  assert.deepEqual(i.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  await e.ok(['rm', 'meta']);
  const bad = await e.berth(['create', '--restart', 'sometimes', e.image, 'true']);
  assert.equal(bad.code, 125);
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e), []);
});

function readlinkNs(pid: number): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}
