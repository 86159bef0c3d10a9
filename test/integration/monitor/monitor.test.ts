/**
 * The per-container monitor against a real runtime (runc by default, or berth-runtime with
 * BERTH_TEST_RUNTIME=berth, or any runc-compatible binary by path) and busybox bundles.
 * Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { isBerthError } from '../../../src/errors/index.js';
import {
  attach,
  disableRestart,
  followLogs,
  killMonitor,
  readExit,
  startExec,
  startMonitor,
  waitExit,
  type AttachChunk,
  type LogEntry,
  type MonitorOptions,
} from '../../../src/engine/monitor/index.js';
import { leakCheckFile, Scope } from '../../harness/index.js';
import { makeBundle, makeRootfs, REPO, testRuntime } from './bundle.js';

const runtime = testRuntime();
const skip =
  process.getuid?.() !== 0 ? 'needs root' : !existsSync(runtime.path) ? `runtime ${runtime.path} not built` : false;

describe(`berth-monitor with ${runtime.name}`, { skip }, () => {
  const scope = new Scope('monitor');
  leakCheckFile(scope);
  let rootfs: string;
  let runtimeRoot: string;
  const ids: string[] = [];

  before(() => {
    rootfs = makeRootfs(scope.mkdtemp('rootfs'));
    runtimeRoot = join(scope.dir, 'runtime');
    // last registered, first run: containers go before the scope dir
    scope.defer('delete containers and stray monitors', () => {
      for (const id of ids) {
        spawnSync(runtime.path, ['--root', runtimeRoot, 'delete', '--force', id], { stdio: 'ignore' });
      }
      const left = ids.flatMap((id) => monitorsOf(id));
      for (const pid of left) process.kill(pid, 'SIGKILL');
      assert.deepEqual(left, [], 'monitors still running after the tests');
    });
  });

  function setup(
    name: string,
    args: string[],
    o: Partial<MonitorOptions> & { memoryLimit?: number } = {},
  ): MonitorOptions & { logPath: string } {
    const { memoryLimit, ...opts } = o;
    const id = `${scope.uid(name)}`;
    ids.push(id);
    const dir = join(scope.dir, name);
    const bundle = makeBundle(join(dir, 'bundle'), rootfs, args, { terminal: o.terminal, memoryLimit });
    const stateDir = join(dir, 'state');
    return {
      id,
      bundle,
      runtimePath: runtime.path,
      runtimeRoot,
      stateDir,
      terminal: false,
      stdin: false,
      ...opts,
      logPath: join(dir, 'ctr.log'),
    };
  }

  async function readAll(logPath: string): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for await (const e of followLogs(logPath)) out.push(e);
    return out;
  }

  it('logs stdout and stderr, records exit 3, exits, leaves a deletable container', async () => {
    const o = setup('basic', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    const h = await startMonitor(o);
    assert.ok(h.monitorPid > 0 && h.containerPid > 0);
    assert.equal(h.started, false);
    assert.equal(parentOf(h.containerPid), h.monitorPid, 'the init is the monitor\'s child');
    // attach first, then start: no output is missed
    const a = await attach(o.stateDir, o.id);
    const chunks: AttachChunk[] = [];
    a.on('data', (c: AttachChunk) => chunks.push(c));
    assert.equal(await a.start(), h.containerPid);
    const ex = await a.exit;
    assert.equal(ex?.exitCode, 3);
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 3);
    assert.equal(st.signal, 0);
    assert.equal(st.restartCount, 0);
    assert.equal(st.oomKilled, false);
    assert.ok(st.startedAt && Date.parse(st.finishedAt) >= Date.parse(st.startedAt));
    const live = chunks.map((c) => `${c.stream}:${c.data}`).sort();
    assert.deepEqual(live, ['stderr:err\n', 'stdout:out\n']);
    const logs = await readAll(o.logPath);
    assert.deepEqual(
      logs.map((e) => [e.stream, e.line]).sort(),
      [['stderr', 'err'], ['stdout', 'out']],
    );
    for (const raw of readFileSync(o.logPath, 'utf8').trim().split('\n')) {
      assert.match(raw, /^\{"log":".*","stream":"std(out|err)","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"\}$/);
    }
    await waitGone(h.monitorPid);
    // the monitor's socket and pid file are gone; what stays is the record (runc also leaves
    // its --log file, berth-runtime only when it logged something)
    const left = readdirSync(o.stateDir).filter((n) => n !== 'runtime.log');
    assert.deepEqual(left.sort(), ['container.pid', 'exit']);
    execFileSync(runtime.path, ['--root', runtimeRoot, 'delete', o.id]);
  });

  it('escapes output per JSON and splits lines longer than 16 KiB', async () => {
    const script = `printf 'a\\tb"c\\\\d\\001\\377\\303\\251\\n'; head -c 40000 /dev/zero | tr '\\000' x; echo; printf tail`;
    const o = setup('escape', ['sh', '-c', script], { start: true });
    await startMonitor(o);
    assert.equal((await waitExit(o.stateDir)).exitCode, 0);
    const logs = await readAll(o.logPath);
    // invalid UTF-8 (\377) becomes U+FFFD, a valid sequence (é) stays
    assert.equal(logs[0].line, 'a\tb"c\\d\u0001\ufffd\u00e9');
    assert.deepEqual(
      logs.slice(1).map((e) => [e.line.length, e.partial]),
      [[16384, true], [16384, true], [40000 - 2 * 16384, false], [4, true]],
    );
    assert.equal(logs.at(-1)?.line, 'tail');
    assert.ok(readFileSync(o.logPath, 'utf8').includes('\\u0001'), 'control characters as \\u escapes');
  });

  it('runs the exit command once the exit file is there', async () => {
    const marker = join(scope.dir, 'exit-command-ran');
    const o = setup('exitcmd', ['sh', '-c', 'exit 7'], { start: true });
    o.exitCommand = ['sh', '-c', 'cat "$1/exit" > "$2.tmp" && mv "$2.tmp" "$2"', 'sh', o.stateDir, marker];
    const h = await startMonitor(o);
    for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(JSON.parse(readFileSync(marker, 'utf8')).exitCode, 7);
    await waitGone(h.monitorPid);
  });

  it('without a log path writes no log and still relays to clients', async () => {
    const o = { ...setup('nolog', ['echo', 'nolog']), logPath: undefined };
    await startMonitor(o);
    const a = await attach(o.stateDir, o.id);
    const out: string[] = [];
    a.on('data', (c: AttachChunk) => out.push(String(c.data)));
    await a.start();
    assert.equal((await a.exit)?.exitCode, 0);
    assert.deepEqual(out, ['nolog\n']);
    assert.ok(!existsSync(join(scope.dir, 'nolog', 'ctr.log')));
  });

  it('relays stdin from an attach client through a pipe', async () => {
    const o = setup('stdin', ['sh', '-c', 'while read l; do echo "got $l"; done; echo done'], { stdin: true });
    await startMonitor(o);
    const a = await attach(o.stateDir, o.id);
    await a.start();
    a.write('one\n');
    a.end('two\n'); // end() closes the container's stdin
    const ex = await a.exit;
    assert.equal(ex?.exitCode, 0);
    assert.deepEqual((await readAll(o.logPath)).map((e) => e.line), ['got one', 'got two', 'done']);
  });

  it('keeps a container running after its starter exits; SIGKILL gives 137', async () => {
    const o = setup('survive', ['sleep', '600'], { start: true });
    // the starter is its own node process, gone before we look
    const starter = `import { startMonitor } from ${JSON.stringify(join(REPO, 'dist/src/engine/monitor/index.js'))};
      const h = await startMonitor(${JSON.stringify(o)});
      process.stdout.write(JSON.stringify(h));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', starter], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const h = JSON.parse(r.stdout) as { monitorPid: number; containerPid: number; started: boolean };
    assert.equal(h.started, true);
    assert.ok(isAlive(h.monitorPid) && isAlive(h.containerPid));
    assert.equal(parentOf(h.containerPid), h.monitorPid);
    const status = readFileSync(`/proc/${h.monitorPid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    console.log(`# monitor RSS: ${rss} kB (${runtime.name})`);
    assert.ok(Number(rss) > 0);
    // no descriptor of the starter (its stdio pipes) is held by the monitor
    const fds = readdirSync(`/proc/${h.monitorPid}/fd`).map((fd) => safeReadlink(`/proc/${h.monitorPid}/fd/${fd}`));
    assert.ok(!fds.some((l) => l.includes('sync') || l.includes('tty')), fds.join(' '));
    // the container got its stdio and nothing else of the monitor's
    assert.deepEqual(readdirSync(`/proc/${h.containerPid}/fd`).sort(), ['0', '1', '2']);
    execFileSync(runtime.path, ['--root', runtimeRoot, 'kill', o.id, 'KILL']);
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 137);
    assert.equal(st.signal, 9);
    await waitGone(h.monitorPid);
    assert.ok(!existsSync(join(o.stateDir, 'attach.sock')));
  });

  it('rotates the log by max-size and max-file', async () => {
    const o = setup('rotate', ['sh', '-c', 'seq 1 300'], { start: true, logMaxSize: 1024, logMaxFiles: 3 });
    await startMonitor(o);
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 0);
    const names = readdirSync(join(scope.dir, 'rotate')).filter((n) => n.startsWith('ctr.log')).sort();
    assert.deepEqual(names, ['ctr.log', 'ctr.log.1', 'ctr.log.2']);
    for (const n of names) assert.ok(statSync(join(scope.dir, 'rotate', n)).size <= 1024, `${n} over max-size`);
    const lines = (await readAll(o.logPath)).map((e) => Number(e.line));
    assert.equal(lines.at(-1), 300);
    assert.ok(lines.length > 20 && lines.length < 300, `kept ${lines.length}`);
    for (let i = 1; i < lines.length; i++) assert.equal(lines[i], lines[i - 1] + 1, 'entries contiguous across files');
    const tail = [];
    for await (const e of followLogs(o.logPath, { tail: 5 })) tail.push(e.line);
    assert.deepEqual(tail, ['296', '297', '298', '299', '300']);
  });

  it('runs a terminal container: pty output in the log, stdin and resize through attach', async () => {
    const o = setup('tty', ['sh', '-c', 'read l; echo "got $l"; stty size; exit 4'], { terminal: true, stdin: true });
    await startMonitor(o);
    const a = await attach(o.stateDir, o.id);
    a.resize(33, 101);
    await a.start();
    a.write('hello\n');
    const ex = await a.exit;
    assert.equal(ex?.exitCode, 4);
    const lines = (await readAll(o.logPath)).map((e) => `${e.stream}:${e.line}`);
    // the pty echoes input and maps \n to \r\n (termios ONLCR)
    assert.ok(lines.includes('stdout:got hello\r'), lines.join('|'));
    assert.ok(lines.includes('stdout:33 101\r'), lines.join('|'));
  });

  it('restarts on-failure:2 twice (3 runs in total)', async () => {
    const o = setup('restart', ['sh', '-c', 'echo run; exit 1'], { start: true, restart: 'on-failure:2' });
    const h = await startMonitor(o);
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 1);
    assert.equal(st.restartCount, 2);
    assert.deepEqual((await readAll(o.logPath)).map((e) => e.line), ['run', 'run', 'run']);
    await waitGone(h.monitorPid);
  });

  it('follows the log while it is written and rotated, until the monitor exits', async () => {
    const o = setup('follow', ['sh', '-c', 'for i in $(seq 1 40); do echo line$i; sleep 0.01; done'], {
      logMaxSize: 300,
      logMaxFiles: 10,
    });
    await startMonitor(o);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of followLogs(o.logPath, { follow: true, stateDir: o.stateDir, pollMs: 20 })) seen.push(e.line);
    })();
    const a = await attach(o.stateDir, o.id);
    await a.start();
    await a.exit;
    await reading;
    assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => `line${i + 1}`));
    assert.ok(existsSync(`${o.logPath}.3`), 'the log rotated while followed');
  });

  it('records an OOM kill from the memory cgroup', async () => {
    // the shell holds 60 MB in a variable under a 16 MiB limit (swap included)
    const o = setup('oom', ['sh', '-c', 'x=$(head -c 60000000 /dev/zero | tr "\\000" a); echo survived'], {
      start: true,
      memoryLimit: 16 << 20,
    });
    await startMonitor(o);
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 137);
    assert.equal(st.oomKilled, true);
  });

  it('a restart whose create fails ends with the runtime message in the exit file', async () => {
    const o = setup('refail', ['sh', '-c', 'sleep 0.3; exit 1'], { start: true, restart: 'on-failure' });
    const h = await startMonitor(o);
    rmSync(join(o.bundle, 'config.json')); // read at create only: the running container is fine
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 1);
    assert.match(st.error ?? '', /^restart: .*config\.json/);
    await waitGone(h.monitorPid);
  });

  it('restart always stops restarting after NO_RESTART (docker stop)', async () => {
    const o = setup('always', ['sh', '-c', 'echo up; sleep 0.05'], { start: true, restart: 'always' });
    const h = await startMonitor(o);
    // wait for a restart to have happened: two "up" lines
    for (let i = 0; i < 100 && (await readAll(o.logPath)).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok((await readAll(o.logPath)).length >= 2, 'restarted at least once');
    await disableRestart(o.stateDir, o.id);
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 0);
    assert.ok(st.restartCount >= 1);
    assert.equal(st.error, null);
    await waitGone(h.monitorPid);
  });

  it('SIGTERM to the monitor kills the container and finishes', async () => {
    const o = setup('term', ['sleep', '600'], { start: true, restart: 'always' });
    const h = await startMonitor(o);
    assert.ok(killMonitor(o.stateDir));
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 137);
    assert.equal(st.restartCount, 0);
    assert.match(st.error ?? '', /signal to the monitor/);
    await waitGone(h.monitorPid);
    assert.ok(!isAlive(h.containerPid));
  });

  it('runs exec sessions into a running container: pipes with stdin, and a pty', async () => {
    const o = setup('exec', ['sleep', '600'], { start: true });
    const h = await startMonitor(o);
    const proc = (args: string[], terminal: boolean) => ({ terminal, args, env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } });
    const base = { id: o.id, runtimePath: runtime.path, runtimeRoot };

    const e1 = { ...base, stateDir: join(scope.dir, 'exec', 'e1'), terminal: false, stdin: true,
      process: proc(['sh', '-c', 'read x; echo "x=$x"; echo oops >&2; exit 5'], false) };
    const m1 = await startExec(e1);
    assert.equal(m1.containerPid, 0, 'nothing runs before START');
    const a1 = await attach(e1.stateDir, o.id);
    const out: string[] = [];
    a1.on('data', (c: AttachChunk) => out.push(`${c.stream}:${c.data}`));
    const pid = await a1.start();
    assert.equal(parentOf(pid), m1.monitorPid);
    a1.end('hi\n');
    assert.equal((await a1.exit)?.exitCode, 5);
    assert.deepEqual(out.sort(), ['stderr:oops\n', 'stdout:x=hi\n']);
    await waitGone(m1.monitorPid);

    const e2 = { ...base, stateDir: join(scope.dir, 'exec', 'e2'), terminal: true, stdin: false, start: true,
      logPath: join(scope.dir, 'exec', 'e2.log'), process: proc(['tty'], true) };
    await startExec(e2);
    assert.equal((await waitExit(e2.stateDir)).exitCode, 0);
    assert.match((await readAll(e2.logPath)).map((e) => e.line).join('|'), /^\/dev\/pts\/\d+\r$/);

    // the container was never touched by the sessions
    assert.ok(isAlive(h.containerPid));
    execFileSync(runtime.path, ['--root', runtimeRoot, 'kill', o.id, 'KILL']);
    assert.equal((await waitExit(o.stateDir)).exitCode, 137);
  });

  it('runs a health check every interval: output of both streams, retries, timeout -1, health.json', async () => {
    const o = setup('health', ['sleep', '600'], { start: true });
    const dir = join(scope.dir, 'health');
    const proc = (args: string[]) => ({ terminal: false, args, env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } });
    const processPath = join(dir, 'check.json');
    // exit 0 until /dev/fail exists (/dev is a tmpfs, the rootfs read-only), then 4: unhealthy after 2
    writeFileSync(processPath, JSON.stringify(proc(['sh', '-c', 'echo out; echo err >&2; test -e /dev/fail && exit 4; exit 0'])));
    const h = await startMonitor({ ...o, health: { processPath, intervalMs: 100, timeoutMs: 5000, startPeriodMs: 0, retries: 2 } });
    type H = { Status: string; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
    const read = (): H | undefined => (existsSync(join(o.stateDir, 'health.json')) ? JSON.parse(readFileSync(join(o.stateDir, 'health.json'), 'utf8')) : undefined);
    const until = async (ok: (x: H) => boolean) => {
      for (const t0 = Date.now(); Date.now() - t0 < 15_000; await new Promise((r) => setTimeout(r, 50))) {
        const x = read();
        if (x && ok(x)) return x;
      }
      assert.fail(`health.json: ${JSON.stringify(read())}`);
    };
    assert.deepEqual(read(), { Status: 'starting', FailingStreak: 0, Log: [] });
    const ok = await until((x) => x.Status === 'healthy');
    assert.equal(ok.Log[0]!.ExitCode, 0);
    assert.deepEqual(ok.Log[0]!.Output.split('\n').sort(), ['', 'err', 'out']);
    // the exec's exit is checked: a check that stays healthy would not tell
    const st0 = await startExec({ id: o.id, runtimePath: runtime.path, runtimeRoot, stateDir: join(dir, 'x'), terminal: false, stdin: false, start: true, process: proc(['sh', '-c', 'echo > /dev/fail']) });
    assert.equal((await waitExit(join(dir, 'x'))).exitCode, 0);
    await waitGone(st0.monitorPid);
    const bad = await until((x) => x.Status === 'unhealthy');
    assert.ok(bad.FailingStreak >= 2);
    assert.equal(bad.Log.at(-1)!.ExitCode, 4);
    assert.ok(bad.Log.length <= 5);
    assert.ok(killMonitor(o.stateDir));
    await waitExit(o.stateDir);
    await waitGone(h.monitorPid);
    assert.equal(existsSync(join(o.stateDir, 'health-exec.pid')), false);
    execFileSync(runtime.path, ['--root', runtimeRoot, 'delete', '--force', o.id]);

    // a check that outlives its timeout is killed: -1, docker's message; retries 1
    const o2 = setup('health-slow', ['sleep', '600'], { start: true });
    writeFileSync(processPath, JSON.stringify(proc(['sleep', '60'])));
    const h2 = await startMonitor({ ...o2, health: { processPath, intervalMs: 100, timeoutMs: 200, startPeriodMs: 0, retries: 1 } });
    const file2 = join(o2.stateDir, 'health.json');
    let slow: H | undefined;
    for (const t0 = Date.now(); Date.now() - t0 < 15_000 && slow?.Status !== 'unhealthy'; await new Promise((r) => setTimeout(r, 50))) {
      slow = existsSync(file2) ? JSON.parse(readFileSync(file2, 'utf8')) : undefined;
    }
    assert.equal(slow?.Status, 'unhealthy', JSON.stringify(slow));
    assert.equal(slow!.Log[0]!.ExitCode, -1);
    assert.equal(slow!.Log[0]!.Output, 'Health check exceeded timeout (200ms)');
    // the timed-out check was killed in the container (through the runtime's --pid-file: a
    // SIGKILLed `runc exec` would leave it running)
    await new Promise((r) => setTimeout(r, 300));
    const ns = safeReadlink(`/proc/${h2.containerPid}/ns/pid`);
    const cmdline = (p: string) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    const checks = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && safeReadlink(`/proc/${p}/ns/pid`) === ns && cmdline(p) === 'sleep\u000060\u0000');
    assert.equal(readdirSync('/proc').filter((p) => /^\d+$/.test(p) && safeReadlink(`/proc/${p}/ns/pid`) === ns && cmdline(p) === 'sleep\u0000600\u0000').length, 1, 'the init is seen');
    assert.ok(checks.length <= 1, `${checks.length} timed-out checks still run`);
    assert.ok(killMonitor(o2.stateDir));
    await waitExit(o2.stateDir);
    await waitGone(h2.monitorPid);
    execFileSync(runtime.path, ['--root', runtimeRoot, 'delete', '--force', o2.id]);
  });

  it('a kill from the caller before start ends a created container and the monitor', async () => {
    const o = setup('killcreated', ['true']);
    const h = await startMonitor(o);
    assert.ok(isAlive(h.containerPid));
    assert.ok(killMonitor(o.stateDir));
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 137);
    assert.equal(st.startedAt, null);
    await waitGone(h.monitorPid);
    assert.ok(!existsSync(join(o.stateDir, 'attach.sock')));
    execFileSync(runtime.path, ['--root', runtimeRoot, 'delete', '--force', o.id]);
  });

  it('rejects a create failure with the runtime message and leaves nothing', async () => {
    const o = setup('bad', ['true']);
    rmSync(join(o.bundle, 'config.json'));
    await assert.rejects(startMonitor(o), (err: unknown) => {
      assert.ok(isBerthError(err));
      assert.match(err.message, new RegExp(`^create container "${o.id}": .*config\\.json`));
      return true;
    });
    assert.ok(!existsSync(o.stateDir), 'state dir removed');
    assert.ok(!existsSync(o.logPath), 'no log file');
    assert.deepEqual(monitorsOf(o.id), []);
    const list = execFileSync(runtime.path, ['--root', runtimeRoot, 'list', '-q'], { encoding: 'utf8' });
    assert.ok(!list.includes(o.id));
  });

  it('kills a container whose start never comes (start timeout)', async () => {
    // a container that never ran is not restarted, whatever the policy
    const o = setup('timeout', ['true'], { startTimeout: 1, restart: 'on-failure' });
    const h = await startMonitor(o);
    const st = await waitExit(o.stateDir);
    assert.equal(st.exitCode, 137);
    assert.equal(st.startedAt, null);
    assert.equal(st.restartCount, 0);
    assert.match(st.error ?? '', /start timeout/);
    await waitGone(h.monitorPid);
    assert.equal(readExit(o.stateDir)?.exitCode, 137);
  });
});

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!isAlive(pid), `monitor ${pid} still running`);
}

/** Live berth-monitor processes started for this container id. */
function monitorsOf(id: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd[0].endsWith('berth-monitor') && cmd.includes(id) && isAlive(Number(p))) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}
