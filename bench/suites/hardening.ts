/**
 * hardening: what the secure defaults cost at start. `X run --bundle B ID` of `true` on two
 * bundles that differ only in docker's default seccomp profile (compiled by berth into the
 * spec's linux.seccomp) plus docker's masked and read-only paths ("hardened") versus none of
 * them ("bare"), for berth-runtime and, as a reference, runc, interleaved in one run. The
 * escape defences that are always on (the sealed memfd copy of berth-init, closing every fd,
 * the /dev/null and /proc checks) are in both rows: they cannot be turned off.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../src/engine/defaults.js';
import { dockerDefaultProfile } from '../../src/runtime/seccomp/index.js';
import type { Spec } from '../../src/spec/runtime.js';
import { checkAborted, defer, runTag, tempDir } from '../lib/cleanup.js';
import type { Context, Suite } from '../lib/context.js';
import { failureLine, nowMs, run } from '../lib/proc.js';
import { failedRow, newCase, okRow, skippedRow, type Case } from '../lib/result.js';
import { makeTrueBundle } from '../peers/bundle.js';
import { binaryMissing, runtimes, type OciRuntime } from '../peers/oci-runtime.js';

type Variant = 'hardened' | 'bare';

function tweak(dir: string, v: Variant): void {
  const path = join(dir, 'config.json');
  const spec = JSON.parse(readFileSync(path, 'utf8')) as Spec;
  const linux = spec.linux!;
  if (v === 'hardened') {
    linux.maskedPaths = [...DEFAULT_MASKED_PATHS];
    linux.readonlyPaths = [...DEFAULT_READONLY_PATHS];
    linux.seccomp = dockerDefaultProfile({ capabilities: spec.process!.capabilities?.bounding ?? [] });
  } else {
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
    delete linux.seccomp;
  }
  writeFileSync(path, JSON.stringify(spec, null, 2));
}

let seq = 0;

export const hardeningSuite: Suite = {
  name: 'hardening',
  describe: 'run of `true` with docker\'s seccomp profile + masked/read-only paths vs without (berth-runtime, runc)',
  async run(ctx: Context): Promise<Case[]> {
    const { opts } = ctx;
    const dir = tempDir('hardening').path;
    const bundles = {} as Record<Variant, string>;
    for (const v of ['hardened', 'bare'] as const) {
      bundles[v] = join(dir, v);
      await makeTrueBundle(bundles[v]);
      tweak(bundles[v], v);
    }
    const c = newCase('hardening', 'run of `true`, sequential', 'per container: `X run --bundle B ID`', 'berth-runtime hardened');
    const subjects: { rt: OciRuntime; root: string }[] = [];
    for (const rt of runtimes(opts.repo, opts.wrapAll).filter((r) => r.name !== 'crun')) {
      const missing = binaryMissing(rt);
      if (missing) {
        for (const v of ['hardened', 'bare']) c.rows.push(skippedRow(`${rt.name} ${v}`, missing));
        continue;
      }
      const root = join(dir, `root-${rt.name}`);
      defer(`delete leftover ${rt.name} containers`, async () => {
        const r = await run(rt.argv(root, ['list', '-q']), { timeoutMs: 10_000 });
        for (const id of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) await run(rt.argv(root, ['delete', '--force', id]), { timeoutMs: 10_000 });
      });
      subjects.push({ rt, root });
    }
    const samples = new Map<string, number[]>();
    const failures = new Map<string, string>();
    const warmup = 3;
    ctx.log(`hardening: ${opts.iterations} iterations, interleaved`);
    for (let i = -warmup; i < opts.iterations; i++) {
      // alternate which variant goes first, so neither always follows the other
      const order: Variant[] = i % 2 ? ['hardened', 'bare'] : ['bare', 'hardened'];
      for (const s of subjects) {
        for (const v of order) {
          checkAborted();
          const name = `${s.rt.name} ${v}`;
          if (failures.has(name)) continue;
          const id = `${runTag()}-hd-${seq++}`;
          const t0 = nowMs();
          const r = await run(s.rt.argv(s.root, ['run', '--bundle', bundles[v], id]), { timeoutMs: 30_000 });
          const ms = nowMs() - t0;
          if (r.code !== 0) {
            failures.set(name, failureLine(r));
            await run(s.rt.argv(s.root, ['delete', '--force', id]), { timeoutMs: 10_000 });
            ctx.log(`hardening: ${name} failed: ${failureLine(r)}`);
            continue;
          }
          if (i >= 0) samples.set(name, [...(samples.get(name) ?? []), ms]);
        }
      }
    }
    for (const s of subjects) {
      for (const v of ['hardened', 'bare'] as const) {
        const name = `${s.rt.name} ${v}`;
        const f = failures.get(name);
        c.rows.push(f ? failedRow(name, f, samples.get(name)) : okRow(name, samples.get(name) ?? [], v === 'bare' ? { note: 'no seccomp, no masked or read-only paths' } : {}));
      }
    }
    c.notes.push('hardened = docker\'s default seccomp profile for the bundle\'s capabilities + docker\'s masked and read-only paths; bare = the same bundle without them. The ratio on the "berth-runtime bare" row is hardened / bare: above 1 is what the defaults cost.');
    return [c];
  },
};
