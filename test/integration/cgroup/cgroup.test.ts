/**
 * Cgroup control against the real kernel: this host's hybrid layout (v1 controllers plus a
 * cgroup2 mount holding hugetlb), and the v2 logic driven against that cgroup2 mount.
 * Everything lives under /berth-test-<scope id> in each hierarchy and is removed in after().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { Scope, leakCheckFile, removeScopeCgroups } from '../../harness/index.js';
import { detectLayout, openCgroups, resolveCgroupsPath, type CgroupManager } from '../../../src/sys/cgroup/index.js';
import { cgroupMounts } from '../../../src/sys/cgroup/mounts.js';
import { isBerthError } from '../../../src/errors/index.js';
import type { Resources } from '../../../src/spec/runtime.js';

const ROOT = '/sys/fs/cgroup';
const scope = new Scope('cgroup');
leakCheckFile(scope);
const top = `/berth-test-${scope.id}`;
const managers: CgroupManager[] = [];
const children: ChildProcess[] = [];
scope.defer('remove cgroups', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const m of managers) {
    try {
      m.destroy();
    } catch {
      /* the leak check reports what stays */
    }
  }
  removeScopeCgroups(scope);
});

const v1Mounts = cgroupMounts().filter((m) => m.version === 1 && m.mountpoint.startsWith(`${ROOT}/`));
const unifiedMount = cgroupMounts().find((m) => m.version === 2 && m.mountpoint.startsWith(`${ROOT}/`));
const hybrid = v1Mounts.length > 0 && unifiedMount !== undefined;
const skipHybrid = hybrid ? false : 'needs the hybrid cgroup layout (v1 controllers + a cgroup2 mount) of the test host';
const mountOf = (controller: string): string => v1Mounts.find((m) => m.controllers.includes(controller))!.mountpoint;

let n = 0;
function open(opts: Parameters<typeof openCgroups>[1] = {}): CgroupManager {
  const warnings: string[] = [];
  const m = openCgroups(`${top}/c${++n}`, { warn: (w) => warnings.push(w), ...opts });
  managers.push(m);
  return m;
}

/** Every directory of this cgroup path that exists, across all mounted hierarchies. */
function dirsOf(path: string): string[] {
  return cgroupMounts()
    .filter((m) => m.mountpoint.startsWith(`${ROOT}/`))
    .map((m) => m.mountpoint + path)
    .filter((d) => existsSync(d));
}

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}

/** Start `argv` inside the cgroup: a shell joins every hierarchy, then execs it. */
function spawnIn(cg: CgroupManager, argv: string[]): ChildProcess & { stderrText: () => string } {
  const c = spawn('/bin/sh', ['-c', 'for f in $CG_FILES; do echo $$ > "$f" || exit 99; done; exec "$@"', 'sh', ...argv], {
    env: { ...process.env, CG_FILES: cg.procsFiles().join(' ') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(c);
  let err = '';
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  c.stdout!.resume();
  return Object.assign(c, { stderrText: () => err });
}

function exited(c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
  return new Promise((r) => c.once('exit', (code, signal) => r({ code, signal })));
}

async function until(what: string, fn: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A process state letter from /proc/PID/stat ("R", "S", "D", ...). */
function procState(pid: number): string {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
}

test('the layout is detected from the mounts', () => {
  const expected = existsSync(`${ROOT}/cgroup.controllers`) ? 'v2' : hybrid ? 'hybrid' : 'v1';
  assert.equal(detectLayout(), expected);
  assert.equal(resolveCgroupsPath(undefined, 'x1'), '/berth/x1');
  assert.equal(resolveCgroupsPath('/default/x1', 'x1'), '/default/x1');
});

test('create applies memory, cpu, cpuset, pids, blkio, devices and hugetlb limits', { skip: skipHybrid }, () => {
  const cg = open();
  const block = readdirSync('/sys/block')
    .map((d) => readFileSync(`/sys/block/${d}/dev`, 'utf8').trim())
    .find((d) => !d.startsWith('7:'));
  const [major, minor] = (block ?? '0:0').split(':').map(Number);
  const resources: Resources = {
    memory: { limit: 64 << 20, swap: 96 << 20, reservation: 32 << 20, swappiness: 10, kernel: 128 << 20 },
    cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
    pids: { limit: 20 },
    blockIO: block ? { throttleReadBpsDevice: [{ major, minor, rate: 1048576 }] } : undefined,
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 136, minor: null, access: 'rw' },
    ],
    hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }],
  };
  cg.create(resources);
  assert.ok(cg.exists());
  // One directory in every hierarchy, the cgroup2 mount included.
  assert.equal(dirsOf(cg.path).length, v1Mounts.length + 1);
  assert.equal(cg.procsFiles().length, v1Mounts.length + 1);
  const mem = mountOf('memory') + cg.path;
  assert.equal(read(mem, 'memory.limit_in_bytes'), String(64 << 20));
  if (existsSync(`${mem}/memory.memsw.limit_in_bytes`)) assert.equal(read(mem, 'memory.memsw.limit_in_bytes'), String(96 << 20));
  assert.equal(read(mem, 'memory.soft_limit_in_bytes'), String(32 << 20));
  assert.equal(read(mem, 'memory.swappiness'), '10');
  const cpu = mountOf('cpu') + cg.path;
  assert.equal(read(cpu, 'cpu.shares'), '512');
  assert.equal(read(cpu, 'cpu.cfs_quota_us'), '50000');
  assert.equal(read(cpu, 'cpu.cfs_period_us'), '100000');
  const cpuset = mountOf('cpuset') + cg.path;
  assert.equal(read(cpuset, 'cpuset.cpus'), '0');
  assert.equal(read(cpuset, 'cpuset.mems'), '0');
  // The parent got the host's cpus copied so that the child could be written at all.
  assert.equal(read(mountOf('cpuset') + top, 'cpuset.cpus'), read(mountOf('cpuset'), 'cpuset.cpus'));
  assert.equal(read(mountOf('pids') + cg.path, 'pids.max'), '20');
  assert.equal(read(mountOf('devices') + cg.path, 'devices.list'), 'c 1:3 rwm\nc 136:* rw');
  if (block) assert.equal(read(mountOf('blkio') + cg.path, 'blkio.throttle.read_bps_device'), `${block} 1048576`);
  assert.equal(read(unifiedMount!.mountpoint + cg.path, 'hugetlb.2MB.max'), String(4 << 20));
  const st = cg.stats();
  assert.equal(st.memory.limit, 64 << 20);
  assert.equal(st.pids.limit, 20);
  assert.equal(st.pids.current, 0);
  cg.destroy();
  assert.equal(cg.exists(), false);
  assert.deepEqual(dirsOf(cg.path), []);
  cg.destroy(); // idempotent
});

test('a process moved in is listed, frozen, thawed and killed', { skip: skipHybrid }, async () => {
  const cg = open();
  cg.create({ pids: { limit: 50 } });
  const counter = join(scope.dir, 'counter');
  const c = spawnIn(cg, ['/bin/sh', '-c', `i=0; while :; do i=$((i+1)); echo $i > ${counter}; done`]);
  await until('the child to join', () => cg.pids().includes(c.pid!) && existsSync(counter) && read(scope.dir, 'counter') !== '');
  assert.deepEqual(cg.pids(), [c.pid]);
  assert.equal(cg.stats().pids.current, 1);

  cg.freeze();
  assert.equal(cg.isFrozen(), true);
  const a = read(scope.dir, 'counter');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(read(scope.dir, 'counter'), a, 'a frozen loop must not count');
  assert.notEqual(procState(c.pid!), 'R');

  cg.thaw();
  assert.equal(cg.isFrozen(), false);
  await until('the loop to count again', () => {
    const v = readFileSync(counter, 'utf8').trim();
    return v !== '' && v !== a;
  });
  assert.ok(cg.stats().cpu.usageNanos > 0);

  cg.killAll('SIGTERM');
  assert.equal((await exited(c)).signal, 'SIGTERM');
  await until('the cgroup to empty', () => cg.pids().length === 0);
  cg.destroy();
  assert.deepEqual(dirsOf(cg.path), []);
});

test('destroy kills what is left, even when frozen, and removes every directory', { skip: skipHybrid }, async () => {
  const cg = open();
  cg.create(undefined);
  const kids = [spawnIn(cg, ['sleep', '60']), spawnIn(cg, ['sleep', '60'])];
  await until('both to join', () => cg.pids().length === 2);
  cg.freeze();
  cg.destroy();
  for (const k of kids) assert.equal((await exited(k)).signal, 'SIGKILL');
  assert.equal(cg.exists(), false);
  assert.deepEqual(dirsOf(cg.path), []);
});

test('a memory limit OOM-kills a process that allocates past it', { skip: skipHybrid }, async () => {
  const cg = open();
  cg.create({ memory: { limit: 16 << 20, swap: 16 << 20 } });
  // dd allocates one 64 MiB buffer and fills it from /dev/zero: every page gets touched.
  const c = spawnIn(cg, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
  const r = await exited(c);
  assert.equal(r.signal, 'SIGKILL', `dd should be OOM-killed: ${JSON.stringify(r)} ${c.stderrText()}`);
  const st = cg.stats();
  assert.ok(st.memory.oomKills >= 1, `oom kills: ${st.memory.oomKills}`);
  assert.ok((st.memory.maxUsage ?? 0) >= 15 << 20, `max usage ${st.memory.maxUsage}`);
  cg.destroy();
});

test('a pids limit makes fork fail beyond it', { skip: skipHybrid }, async () => {
  const cg = open();
  cg.create({ pids: { limit: 4 } });
  const script = 'i=0; while [ $i -lt 8 ]; do sleep 30 & i=$((i+1)); done; echo started; cat /proc/self/status >/dev/null; sleep 30';
  const c = spawnIn(cg, ['/bin/sh', '-c', script]);
  await until('the shell to hit the limit', () => /fork|Resource temporarily unavailable/i.test(c.stderrText()) || c.exitCode !== null, 5000);
  assert.match(c.stderrText(), /fork|Resource temporarily unavailable/i);
  assert.ok(cg.stats().pids.current <= 4);
  const events = readFileSync(`${mountOf('pids')}${cg.path}/pids.events`, 'utf8');
  assert.match(events, /max [1-9]/);
  cg.destroy();
  await exited(c);
  assert.deepEqual(dirsOf(cg.path), []);
});

test('update changes limits, raising memory+swap and lowering them', { skip: skipHybrid }, () => {
  const cg = open();
  cg.create({ memory: { limit: 32 << 20, swap: 32 << 20 }, cpu: { quota: 20000, period: 100000 }, pids: { limit: 10 } });
  const mem = mountOf('memory') + cg.path;
  const memsw = existsSync(`${mem}/memory.memsw.limit_in_bytes`);
  // Raising both needs memsw written first, lowering needs the limit first.
  cg.update({ memory: { limit: 128 << 20, swap: 256 << 20 } });
  assert.equal(read(mem, 'memory.limit_in_bytes'), String(128 << 20));
  if (memsw) assert.equal(read(mem, 'memory.memsw.limit_in_bytes'), String(256 << 20));
  cg.update({ memory: { limit: 8 << 20, swap: 8 << 20 } });
  assert.equal(read(mem, 'memory.limit_in_bytes'), String(8 << 20));
  if (memsw) assert.equal(read(mem, 'memory.memsw.limit_in_bytes'), String(8 << 20));
  cg.update({ memory: { limit: -1 } });
  assert.equal(cg.stats().memory.limit, Number.MAX_SAFE_INTEGER);
  cg.update({ cpu: { quota: -1 }, pids: { limit: -1 } });
  assert.equal(read(mountOf('cpu') + cg.path, 'cpu.cfs_quota_us'), '-1');
  assert.equal(read(mountOf('pids') + cg.path, 'pids.max'), 'max');
  cg.destroy();
});

test('a memory limit below current usage is a clear FAILED_PRECONDITION', { skip: skipHybrid }, async () => {
  const cg = open();
  cg.create({ memory: { limit: 64 << 20, swap: 64 << 20 } });
  // The shell holds ~16 MiB of anonymous memory that cannot be reclaimed without swap.
  const c = spawnIn(cg, ['/bin/sh', '-c', 'x=$(head -c 16000000 /dev/zero | tr "\\0" a); echo held; sleep 30']);
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until('the memory to be held', () => out.includes('held'), 5000);
  assert.throws(
    () => cg.update({ memory: { limit: 1 << 20 } }),
    (e: unknown) =>
      isBerthError(e, 'FAILED_PRECONDITION') &&
      e.message.includes('memory limit') &&
      e.message.includes('1048576') &&
      e.message.includes(cg.path) &&
      e.message.includes('device or resource busy'),
  );
  cg.destroy();
  assert.equal((await exited(c)).signal, 'SIGKILL');
});

test('a failed create leaves nothing behind', { skip: skipHybrid }, () => {
  const cg = openCgroups(`${top}-bad/x`, { warn: () => {} });
  managers.push(cg);
  assert.throws(
    () => cg.create({ memory: { limit: 64 << 20 }, cpu: { cpus: '99-100' } }),
    (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /cpuset\.cpus/.test(e.message) && e.message.includes('99-100'),
  );
  assert.equal(cg.exists(), false);
  assert.deepEqual(dirsOf(`${top}-bad`), [], 'the parent it created is gone too');
  assert.throws(() => open().create({ unified: { 'memory.high': '1' } }), (e: unknown) => isBerthError(e, 'NOT_IMPLEMENTED'));
  assert.throws(() => open().create({ cpu: { quota: 1 } }), (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /cfs_quota_us/.test(e.message));
  assert.deepEqual(dirsOf(`${top}/c${n}`), []);
});

test('concurrent creates and destroys under one shared parent do not trip over each other', { skip: skipHybrid }, async () => {
  // Each destroy removes the shared parent when it created it and finds it empty, while the
  // other threads are creating leaves under it: the mkdir chain must retry, no leaf may leak.
  const parent = `${top}/shared`;
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.mod).then(({ openCgroups }) => {
      const errors = [];
      for (let i = 0; i < workerData.n; i++) {
        const cg = openCgroups(workerData.parent + '/w' + workerData.w + '-' + i, { warn() {} });
        try { cg.create({ pids: { limit: 10 }, cpu: { cpus: '0' } }); cg.destroy(); } catch (e) { errors.push(e.message); }
      }
      parentPort.postMessage(errors);
    });`;
  const mod = new URL('../../../src/sys/cgroup/index.js', import.meta.url).href;
  const results = await Promise.all(
    [0, 1, 2].map(
      (w) =>
        new Promise<string[]>((resolve, reject) => {
          const worker = new Worker(code, { eval: true, workerData: { mod, parent, w, n: 20 } });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  assert.deepEqual(results.flat(), []);
  // The parent stays where its creator found it busy; it must be empty (rmdir succeeds).
  for (const d of dirsOf(parent)) rmdirSync(d);
  assert.deepEqual(dirsOf(parent), []);
});

// ------------------------------------------------------------------ cgroup v2 file logic
const unifiedHasProcs = unifiedMount !== undefined;
const skipV2 = unifiedHasProcs ? false : 'no cgroup2 mount on this host';

test('v2: create, join, freeze, thaw, kill and destroy on the cgroup2 mount', { skip: skipV2 }, async () => {
  const root = unifiedMount!.mountpoint;
  const controllers = read(root, 'cgroup.controllers').split(' ');
  const cg = open({ layout: 'v2', root });
  const resources: Resources = controllers.includes('hugetlb') ? { hugepageLimits: [{ pageSize: '2MB', limit: 2 << 20 }] } : {};
  cg.create(resources);
  if (controllers.includes('hugetlb')) {
    assert.equal(read(root + cg.path, 'hugetlb.2MB.max'), String(2 << 20));
    assert.ok(read(root + top, 'cgroup.subtree_control').split(' ').includes('hugetlb'));
  }
  const c = spawnIn(cg, ['sleep', '60']);
  await until('the child to join', () => cg.pids().includes(c.pid!));
  assert.deepEqual(cg.procsFiles(), [`${root}${cg.path}/cgroup.procs`]);
  if (existsSync(`${root}${cg.path}/cgroup.freeze`)) {
    cg.freeze();
    assert.equal(cg.isFrozen(), true);
    assert.match(read(root + cg.path, 'cgroup.events'), /frozen 1/);
    cg.thaw();
    assert.equal(cg.isFrozen(), false);
  }
  cg.killAll('SIGKILL');
  assert.equal((await exited(c)).signal, 'SIGKILL');
  const st = cg.stats();
  assert.equal(st.pids.current, 0);
  cg.destroy();
  assert.equal(existsSync(root + cg.path), false);
});

test('v2: an unavailable controller fails cleanly', { skip: skipV2 }, () => {
  const root = unifiedMount!.mountpoint;
  const controllers = read(root, 'cgroup.controllers').split(' ');
  const missing = ['pids', 'memory', 'cpu'].find((c) => !controllers.includes(c));
  if (!missing) return;
  const cg = open({ layout: 'v2', root });
  const resources: Resources = missing === 'pids' ? { pids: { limit: 5 } } : missing === 'memory' ? { memory: { limit: 1 << 30 } } : { cpu: { shares: 100 } };
  assert.throws(
    () => cg.create(resources),
    (e: unknown) => isBerthError(e, 'NOT_IMPLEMENTED') && e.message.includes(`controller ${missing} not available`),
  );
  assert.equal(cg.exists(), false);
  assert.equal(existsSync(root + cg.path), false);
});

test('v2: device rules are enforced by an eBPF program and can be replaced', { skip: skipV2 }, async () => {
  const root = unifiedMount!.mountpoint;
  const cg = open({ layout: 'v2', root });
  cg.create({
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
    ],
  });
  const probe = async (): Promise<string> => {
    const script = [
      'cat /dev/null && echo null=ok',
      'head -c1 /dev/zero >/dev/null && echo zero-read=ok',
      '(echo x > /dev/zero) 2>/dev/null && echo zero-write=ok',
      'head -c1 /dev/full >/dev/null 2>&1 && echo full-read=ok',
      'true',
    ].join('; ');
    const c = spawnIn(cg, ['/bin/sh', '-c', script]);
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await exited(c);
    return out.trim().split('\n').sort().join(' ');
  };
  assert.equal(await probe(), 'null=ok zero-read=ok');
  cg.update({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: null, access: 'rwm' }] });
  assert.equal(await probe(), 'full-read=ok null=ok zero-read=ok zero-write=ok');
  const { cgroupBpf } = await import('../../../src/sys/cgroup/_bpf.js');
  assert.equal(cgroupBpf()!.attachedDevicePrograms(root + cg.path), 1, 'the old program was detached');
  cg.destroy();
  assert.equal(existsSync(root + cg.path), false);
});
