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
import type { Context, Suite } from '../lib/context.js';
import { failureLine, nowMs, run, sleepSyncMs, type CmdResult } from '../lib/proc.js';
import { failedRow, newCase, okRow, skippedRow, type Case, type Row } from '../lib/result.js';
import { makeTrueBundle } from '../peers/bundle.js';
import { HIDE_UNIFIED, binaryMissing, runtimes, type OciRuntime } from '../peers/oci-runtime.js';

type Form = 'run' | 'lifecycle';

interface Subject {
  rt: OciRuntime;
  root: string;
  /** Set at a form's first failure; that form of the implementation is not driven again. */
  failed: Partial<Record<Form, { at: string; error: string }>>;
  samples: Record<string, number[]>;
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
      const s: Subject = { rt, root, samples: {}, failed: {} };
      defer(`delete leftover ${rt.name} containers`, () => deleteAll(s));
      subjects.push(s);
    }

    // A probe run per runtime: a runtime that cannot run the bundle reports its first error
    // line and the suite carries on with the others.
    const forms: Form[] = ['run', 'lifecycle'];
    for (const s of subjects) {
      for (const form of forms) {
        const r = await once(s, form, bundle);
        if ('error' in r) s.failed[form] = { at: 'probe', error: r.error };
        ctx.log(`runtime: probe ${s.rt.name} (${form}): ${'error' in r ? `failed: ${r.error}` : `ok (${r.ms.toFixed(1)} ms)`}`);
      }
    }
    const live = (form: Form): Subject[] => subjects.filter((x) => !x.failed[form]);

    const warmup = 3;
    for (const form of forms) {
      ctx.log(`runtime: ${form} form, sequential, ${opts.iterations} iterations`);
      for (let i = -warmup; i < opts.iterations; i++) {
        for (const s of rotate(live(form), i)) {
          const r = await once(s, form, bundle);
          if ('error' in r) s.failed[form] = { at: key(form, 'seq'), error: r.error };
          else if (i >= 0) (s.samples[key(form, 'seq')] ??= []).push(r.ms);
        }
      }
    }
    for (const form of forms) {
      ctx.log(`runtime: ${form} form, ${opts.concurrency} at once, ${opts.rounds} rounds`);
      for (let round = 0; round < opts.rounds; round++) {
        for (const s of rotate(live(form), round)) {
          const t0 = nowMs();
          const results = await Promise.all(Array.from({ length: opts.concurrency }, () => once(s, form, bundle)));
          const ms = nowMs() - t0;
          const bad = results.find((r): r is { error: string } => 'error' in r);
          if (bad) {
            const n = results.filter((r) => 'error' in r).length;
            s.failed[form] = { at: key(form, 'par'), error: `${n} of ${opts.concurrency} failed, first: ${bad.error}` };
            ctx.log(`runtime: ${s.rt.name}: ${form} form, ${opts.concurrency} at once: ${s.failed[form]!.error}`);
          }
          else (s.samples[key(form, 'par')] ??= []).push(ms);
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
        const failed = s.failed[form];
        // A failure is reported in the case where it happened; a later case of the same form
        // was not run.
        if (failed && samples.length === 0) {
          const where = failed.at === k || failed.at === 'probe' ? '' : 'not run after an earlier failure: ';
          c.rows.push(failedRow(s.rt.name, `${where}${failed.error}`));
        } else if (failed && failed.at === k) c.rows.push({ ...okRow(s.rt.name, samples), note: `then failed: ${failed.error}` });
        else c.rows.push(okRow(s.rt.name, samples, note ? { note } : {}));
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

/** Round-robin start order, so no implementation always runs right after another. */
function rotate<T>(xs: T[], i: number): T[] {
  if (xs.length === 0) return xs;
  const k = ((i % xs.length) + xs.length) % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}
