/**
 * runtime: a `true` container on a busybox bundle through each runc-compatible runtime.
 *  - `run` form: `X --root R run --bundle B ID` (the runtime creates, starts, waits, deletes);
 *  - lifecycle form: `create --pid-file` + `start` + wait for the init's exit + `delete`, the way
 *    podman and containerd drive a runtime;
 * each sequentially (one sample per container) and N at once (one sample per batch, wall time).
 * Implementations are interleaved within every round so that drift in the machine's load
 * hits them all alike.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAborted, defer, runTag, tempDir } from '../lib/cleanup.js';
import { rotate } from '../lib/rotate.js';
import type { Context, Suite } from '../lib/context.js';
import { failureLine, nowMs, run, sleepSyncMs, type CmdResult } from '../lib/proc.js';
import { failedRow, newCase, okRow, skippedRow, type Case, type Row } from '../lib/result.js';
import { makeTrueBundle } from '../peers/bundle.js';
import { HIDE_UNIFIED, binaryMissing, runtimes, type OciRuntime } from '../peers/oci-runtime.js';

type Form = 'run' | 'lifecycle';

interface Subject {
  rt: OciRuntime;
  root: string;
  /** Why a form is not driven any more: its probe failed, or too many of its runs did. */
  disabled: Partial<Record<Form, string>>;
  /** Failed containers per case (a failed iteration or batch gives no sample). */
  failures: Record<string, { count: number; first: string }>;
  /** Containers attempted per case (warm-ups excluded). */
  attempts: Record<string, number>;
  samples: Record<string, number[]>;
}

/**
 * A flaky failure is counted and the measurement goes on; a form is given up for a runtime
 * once more than this share of its attempts in a case failed (after at least 3 failures).
 */
const GIVE_UP_SHARE = 0.2;

function recordAttempt(s: Subject, form: Form, k: string, attempts: number, failed: number, first?: string): void {
  s.attempts[k] = (s.attempts[k] ?? 0) + attempts;
  if (!failed || first === undefined) return;
  const f = (s.failures[k] ??= { count: 0, first });
  f.count += failed;
  if (f.count >= 3 && f.count > s.attempts[k] * GIVE_UP_SHARE) s.disabled[form] = `${f.count} of ${s.attempts[k]} failed, first: ${f.first}`;
}

let seq = 0;
function newId(rt: OciRuntime): string {
  return `${runTag()}-${rt.name}-${seq++}`;
}

/** Wait until the process is gone or a zombie (its parent, not us, reaps it). */
function waitExit(pid: number, timeoutMs: number): boolean {
  const deadline = nowMs() + timeoutMs;
  for (;;) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return true;
    }
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return true;
    if (nowMs() > deadline) return false;
    sleepSyncMs(0.2);
  }
}

async function once(s: Subject, form: Form, bundle: string): Promise<{ ms: number } | { error: string }> {
  checkAborted();
  const id = newId(s.rt);
  const t0 = nowMs();
  const step = async (args: string[], onExit = false): Promise<CmdResult> => run(s.rt.argv(s.root, args), { timeoutMs: 30_000, onExit });
  if (form === 'run') {
    const r = await step(['run', '--bundle', bundle, id]);
    const ms = nowMs() - t0;
    if (r.code !== 0) {
      await forceDelete(s, id);
      return { error: `run: ${failureLine(r)}` };
    }
    return { ms };
  }
  const pidFile = join(s.root, `${id}.pid`);
  const c = await step(['create', '--bundle', bundle, '--pid-file', pidFile, id], true);
  if (c.code !== 0) {
    await forceDelete(s, id);
    return { error: `create: ${failureLine(c)}` };
  }
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    await forceDelete(s, id);
    return { error: 'create: no pid file written' };
  }
  const st = await step(['start', id]);
  if (st.code !== 0) {
    await forceDelete(s, id);
    return { error: `start: ${failureLine(st)}` };
  }
  if (!waitExit(pid, 10_000)) {
    await forceDelete(s, id);
    return { error: `container init ${pid} did not exit within 10 s` };
  }
  const d = await step(['delete', id]);
  const ms = nowMs() - t0;
  if (d.code !== 0) {
    await forceDelete(s, id);
    return { error: `delete: ${failureLine(d)}` };
  }
  return { ms };
}

async function forceDelete(s: Subject, id: string): Promise<void> {
  await run(s.rt.argv(s.root, ['delete', '--force', id]), { timeoutMs: 10_000 });
}

/** Whatever a failed or interrupted run left in a runtime's root. */
async function deleteAll(s: Subject): Promise<void> {
  const r = await run(s.rt.argv(s.root, ['list', '-q']), { timeoutMs: 10_000 });
  if (r.code !== 0) return;
  for (const id of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) await forceDelete(s, id);
}

function key(form: Form, mode: 'seq' | 'par'): string {
  return `${form}/${mode}`;
}

export const runtimeSuite: Suite = {
  name: 'runtime',
  describe: 'create+start+wait+delete of a `true` container: berth-runtime vs runc vs crun',
  async run(ctx: Context): Promise<Case[]> {
    const { opts } = ctx;
    const dir = tempDir('runtime').path;
    const bundle = join(dir, 'bundle');
    await makeTrueBundle(bundle);

    const subjects: Subject[] = [];
    const rows = new Map<string, Row>();
    for (const rt of runtimes(opts.repo, opts.wrapAll)) {
      const missing = binaryMissing(rt);
      if (missing) {
        rows.set(rt.name, skippedRow(rt.name, missing));
        continue;
      }
      const root = join(dir, `root-${rt.name}`);
      const s: Subject = { rt, root, samples: {}, disabled: {}, failures: {}, attempts: {} };
      defer(`delete leftover ${rt.name} containers`, () => deleteAll(s));
      subjects.push(s);
    }

    // A probe run per runtime: a runtime that cannot run the bundle reports its first error
    // line and the suite carries on with the others.
    const forms: Form[] = ['run', 'lifecycle'];
    for (const s of subjects) {
      for (const form of forms) {
        const r = await once(s, form, bundle);
        if ('error' in r) s.disabled[form] = r.error;
        ctx.log(`runtime: probe ${s.rt.name} (${form}): ${'error' in r ? `failed: ${r.error}` : `ok (${r.ms.toFixed(1)} ms)`}`);
      }
    }
    const live = (form: Form): Subject[] => subjects.filter((x) => !x.disabled[form]);

    const warmup = 3;
    for (const form of forms) {
      ctx.log(`runtime: ${form} form, sequential, ${opts.iterations} iterations`);
      for (let i = -warmup; i < opts.iterations; i++) {
        for (const s of rotate(live(form), i)) {
          if (s.disabled[form]) continue;
          const r = await once(s, form, bundle);
          if ('error' in r) recordAttempt(s, form, key(form, 'seq'), 1, 1, r.error);
          else if (i >= 0) {
            (s.samples[key(form, 'seq')] ??= []).push(r.ms);
            recordAttempt(s, form, key(form, 'seq'), 1, 0);
          }
        }
      }
    }
    for (const form of forms) {
      ctx.log(`runtime: ${form} form, ${opts.concurrency} at once, ${opts.rounds} rounds`);
      for (let round = 0; round < opts.rounds; round++) {
        for (const s of rotate(live(form), round)) {
          if (s.disabled[form]) continue;
          const t0 = nowMs();
          const results = await Promise.all(Array.from({ length: opts.concurrency }, () => once(s, form, bundle)));
          const ms = nowMs() - t0;
          const bad = results.find((r): r is { error: string } => 'error' in r);
          if (bad) {
            // The batch's wall time is not a sample: it did not start all of its containers.
            const n = results.filter((r) => 'error' in r).length;
            recordAttempt(s, form, key(form, 'par'), opts.concurrency, n, bad.error);
            ctx.log(`runtime: ${s.rt.name}: ${form} form, ${opts.concurrency} at once: ${n} failed, first: ${bad.error}`);
          } else {
            (s.samples[key(form, 'par')] ??= []).push(ms);
            recordAttempt(s, form, key(form, 'par'), opts.concurrency, 0);
          }
        }
      }
    }

    // The wrapper crun needs, alone: `exec true` instead of the runtime.
    // And the floor every row stands on: spawning a process from this harness.
    const wrapper: number[] = [];
    const spawnFloor: number[] = [];
    for (let i = -warmup; i < opts.iterations; i++) {
      const r = await run([...HIDE_UNIFIED, 'true']);
      if (r.code === 0 && i >= 0) wrapper.push(r.ms);
      const t = await run(['true']);
      if (t.code === 0 && i >= 0) spawnFloor.push(t.ms);
    }

    const cases: Case[] = [];
    const titles: Record<string, [string, string]> = {
      'run/seq': ['run, sequential', 'per container: `X run --bundle B ID`'],
      'lifecycle/seq': ['create+start+wait+delete, sequential', 'per container: four commands'],
      'run/par': [`run, ${opts.concurrency} at once`, `wall time for ${opts.concurrency} containers`],
      'lifecycle/par': [`create+start+wait+delete, ${opts.concurrency} at once`, `wall time for ${opts.concurrency} containers`],
    };
    for (const [k, [name, unit]] of Object.entries(titles)) {
      const c = newCase('runtime', name, unit, 'berth-runtime');
      const form = k.split('/')[0] as Form;
      for (const s of subjects) {
        const samples = s.samples[k] ?? [];
        const note = s.rt.wrapped ? 'inside the unshare+sh wrapper' : undefined;
        const f = s.failures[k];
        const failNote = f ? `${f.count} of ${s.attempts[k]} containers failed, first: ${f.first}` : undefined;
        if (samples.length === 0) {
          c.rows.push(failedRow(s.rt.name, failNote ?? `not run: ${s.disabled[form] ?? 'no sample'}`));
        } else {
          const all = [note, failNote].filter(Boolean).join('; ');
          c.rows.push(okRow(s.rt.name, samples, all ? { note: all } : {}));
        }
      }
      for (const r of rows.values()) c.rows.push(r);
      if (k.endsWith('/seq')) {
        c.rows.push(okRow('unshare+sh wrapper alone', wrapper, { reference: true, note: 'cost included in every wrapped row' }));
        c.rows.push(okRow('spawn of /bin/true', spawnFloor, { reference: true, note: "the harness's floor, in every row (x4 in the lifecycle form)" }));
      }
      cases.push(c);
    }
    cases[0].notes.push(
      'crun refuses the hybrid cgroup layout, so it runs as `unshare -m --propagation private sh -c \'umount /sys/fs/cgroup/unified; exec crun ...\'`; the wrapper row is that cost alone (--wrap-all puts every runtime in it).',
    );
    return cases;
  },
};

