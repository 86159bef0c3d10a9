// Health checks run in each container's C monitor (docs/monitor.md "Health checks"): no Node
// process per checked container, docker's timeout and start-period rules, and nothing left
// once the containers are removed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { engineEnv, leftovers, type EngineEnv } from '../engine/_env.js';

const { ready } = engineEnv('io-health');
let e: EngineEnv;

test('setup', async () => {
  e = await ready;
});

/** Processes (other than us) whose command line names this test's state dir. */
function ours(): { pid: number; cmd: string; rssKiB: number }[] {
  const out: { pid: number; cmd: string; rssKiB: number }[] = [];
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!(pid > 0) || pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (!cmd.includes(e.state)) continue;
      const rss = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      out.push({ pid, cmd, rssKiB: rss ? Number(rss[1]) : 0 });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Command lines of the host's processes in the cgroup of a container. */
function inCgroupOf(id: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/cgroup`, 'utf8').includes(id)) continue;
      out.push(readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '));
    } catch {
      /* gone */
    }
  }
  return out;
}

type Health = { Status: string; FailingStreak: number; Log: { Start: string; End: string; ExitCode: number; Output: string }[] };
const health = async (name: string) => JSON.parse(await e.ok(['inspect', name]))[0].State.Health as Health;
async function until(name: string, ok: (h: Health) => boolean, what: string): Promise<Health> {
  for (const t0 = Date.now(); Date.now() - t0 < 20_000; await new Promise((r) => setTimeout(r, 100))) {
    const h = await health(name);
    if (h && ok(h)) return h;
  }
  assert.fail(`${name}: ${what} never came: ${JSON.stringify(await health(name))}`);
}

test('3 checked containers: checks run in their monitors, no helper process; timeout and start period as docker', async (t) => {
  const names = ['hc1', 'hc2', 'hc3'];
  for (const n of names) await e.ok(['run', '-d', '--name', n, '--health-cmd', 'echo ok', '--health-interval', '200ms', e.image, 'sleep', '1000']);
  // a check that outlives its timeout: killed, ExitCode -1, docker's message; retries 1
  await e.ok(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 37', '--health-interval', '200ms', '--health-timeout', '300ms', '--health-retries', '1', e.image, 'sleep', '1000']);
  // failures in the start period do not count
  await e.ok(['run', '-d', '--name', 'sp', '--health-cmd', 'exit 3', '--health-interval', '200ms', '--health-retries', '1', '--health-start-period', '30s', e.image, 'sleep', '1000']);

  for (const n of names) await until(n, (h) => h.Status === 'healthy', 'healthy');
  const h1 = await until('hc1', (h) => h.Log.length === 5, '5 log entries');
  assert.equal(h1.Log.at(-1)!.Output, 'ok\n');
  assert.equal(h1.Log.at(-1)!.ExitCode, 0);
  assert.ok(Date.parse(h1.Log.at(-1)!.End) >= Date.parse(h1.Log.at(-1)!.Start));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await health('hc1')).Log.length, 5, 'only the last 5 results are kept');

  const slow = await until('slow', (h) => h.Status === 'unhealthy', 'unhealthy');
  assert.equal(slow.Log[0]!.ExitCode, -1);
  assert.equal(slow.Log[0]!.Output, 'Health check exceeded timeout (300ms)');
  assert.match(await e.ok(['ps', '--format', '{{.Names}} {{.Status}}', '-f', 'name=slow']), /^slow Up .* \(unhealthy\)$/);
  // each timed-out check was killed in the container, not left running: at most the current one
  await until('slow', (h) => h.Log.length >= 4, '4 timed-out checks');
  const slowId = await e.ok(['inspect', '--format', '{{.Id}}', 'slow']);
  const inSlow = (args: string) => inCgroupOf(slowId).filter((c) => c === args);
  assert.equal(inSlow('sleep 1000').length, 1, 'the container\'s init is seen');
  assert.ok(inSlow('sleep 37').length <= 1, JSON.stringify(inCgroupOf(slowId)));

  const sp = await until('sp', (h) => h.Log.length >= 3, '3 failed checks');
  assert.equal(sp.Status, 'starting');
  assert.equal(sp.FailingStreak, 0);
  assert.equal(sp.Log.at(-1)!.ExitCode, 3);
  assert.match(await e.ok(['ps', '--format', '{{.Names}} {{.Status}}', '-f', 'name=sp']), /^sp Up .* \(health: starting\)$/);

  // what runs for these 5 containers: their monitors (and a check's runtime exec now and
  // then), no `berth container healthcheck` helper and no Node process at all
  const procs = ours();
  assert.deepEqual(procs.filter((p) => /healthcheck|node/.test(p.cmd)), [], JSON.stringify(procs));
  const monitors = procs.filter((p) => p.cmd.includes('berth-monitor'));
  assert.equal(monitors.length, 5, JSON.stringify(procs));
  t.diagnostic(`RSS of the 5 monitors running the checks: ${monitors.map((m) => m.rssKiB).join(' + ')} KiB`);

  await e.ok(['rm', '-f', ...names, 'slow', 'sp']);
  // the checks stop with the container: no monitor, no runtime exec, no check left
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(ours(), []);
  assert.deepEqual(leftovers(e), []);
});
