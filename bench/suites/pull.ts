/**
 * pull: a ~300 MB, 6-layer image from a private docker-registry on 127.0.0.1, into an empty
 * store every iteration (a fresh temp root; for containerd a fresh daemon, started before and
 * stopped after the timed command). Implementations are interleaved per iteration, and
 * `sync` runs between iterations so one pull's writeback does not land in the next one's time.
 *  - berth: `berth --root R pull REF` (fetch + unpack into snapshots);
 *  - podman: `podman pull` (fetch + unpack into overlay storage);
 *  - ctr: `ctr images pull --plain-http` (fetch + unpack into the overlayfs snapshotter);
 *  - skopeo: `skopeo copy` to an OCI layout: fetch only, no unpack (the floor for the wire).
 */
import { join } from 'node:path';
import { checkAborted, removeTree, runTag, tempDir } from '../lib/cleanup.js';
import type { Context, Suite } from '../lib/context.js';
import { failureLine, run, type CmdResult } from '../lib/proc.js';
import { failedRow, newCase, okRow, skippedRow, type Case, type Row } from '../lib/result.js';
import { fmtMs } from '../lib/table.js';
import { berthCommand } from '../peers/berth.js';
import { bigImage, type BuiltImage } from '../peers/image.js';
import { containerd, ctrArgv, podman, pushed, sharedRegistry } from '../peers/services.js';

interface Impl {
  name: string;
  note?: string;
  /** Runs one timed pull into a fresh store; set-up and tear-down are not timed. */
  once(iter: number): Promise<CmdResult>;
  samples: number[];
  /** Bytes the store holds after the last pull (du), to show what each one keeps. */
  storeBytes?: number;
  failed?: string;
}

/** `du -sx`: bytes on disk below `dir` (hardlinks once), or undefined if du fails. */
async function diskUsage(dir: string): Promise<number | undefined> {
  const r = await run(['du', '-sx', '--block-size=1', dir], { timeoutMs: 60_000 });
  const n = Number(r.stdout.split(/\s/)[0]);
  return r.code === 0 && Number.isFinite(n) ? n : undefined;
}

export const pullSuite: Suite = {
  name: 'pull',
  describe: 'pull of a ~300 MB 6-layer image from a local registry: berth vs podman vs ctr vs skopeo',
  async run(ctx: Context): Promise<Case[]> {
    const { opts } = ctx;
    const image: BuiltImage = await ctx.shared('image:big', () => bigImage(opts.cache, ctx.log));
    const registry = await sharedRegistry(ctx);
    const ref = await pushed(ctx, registry, image, 'bench/big');
    ctx.log(`pull: ${ref}: ${image.layers} layers, ${(image.uncompressedBytes / 2 ** 20).toFixed(0)} MB uncompressed, ${(image.compressedBytes / 2 ** 20).toFixed(0)} MB gzip`);

    const berth = berthCommand(opts.repo);
    const timeoutMs = 600_000;
    // Time from pull start to a runnable rootfs: right after each timed berth pull (same
    // iteration, same load), `berth create` prepares the container's writable snapshot.
    const prep = await berth.rootfsCommand();
    const rootfsSamples: number[] = [];
    let rootfsFailed: string | undefined;

    const impls: Impl[] = [
      {
        name: 'berth',
        samples: [],
        async once(i) {
          const d = tempDir(`pull-berth-${i}`);
          try {
            const r = await run(berth.argv(d.path, ['pull', '--quiet', ref]), { timeoutMs, env: berth.env });
            this.storeBytes = await diskUsage(d.path);
            if (r.code === 0 && prep && !rootfsFailed) {
              const q = await run(berth.argv(d.path, prep(ref, `${runTag()}-${i}`)), { timeoutMs, env: berth.env });
              if (q.code !== 0) rootfsFailed = `${prep(ref, 'ID').slice(0, 1).join(' ')}: ${failureLine(q)}`;
              else if (i >= 0) rootfsSamples.push(r.ms + q.ms);
              ctx.log(`pull: berth create after pull #${i + 1}: ${q.code === 0 ? fmtMs(q.ms) : `failed: ${failureLine(q)}`}`);
            }
            return r;
          } finally {
            await berth.removeContainers(d.path);
            await d.remove();
          }
        },
      },
      {
        name: 'podman',
        note: 'overlay storage',
        samples: [],
        async once() {
          const p = podman(registry);
          try {
            const r = await run(['podman', 'pull', '--quiet', ref], { timeoutMs, env: p.env });
            this.storeBytes = await diskUsage(p.dir);
            return r;
          } finally {
            // rmi and unmount now; the config stays until the end (see services.ts).
            await p.cleanup();
          }
        },
      },
      {
        name: 'ctr',
        note: 'containerd 1.6, overlayfs snapshotter',
        samples: [],
        async once() {
          const cd = await containerd();
          try {
            const r = await run(ctrArgv(cd, ['images', 'pull', '--plain-http', ref]), { timeoutMs });
            this.storeBytes = await diskUsage(cd.dir);
            return r;
          } finally {
            await cd.stop();
            await removeTree(cd.dir);
          }
        },
      },
      {
        name: 'skopeo copy',
        note: 'fetch only, no unpack',
        samples: [],
        async once(i) {
          const d = tempDir(`pull-skopeo-${i}`);
          try {
            const r = await run(['skopeo', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(d.path, 'layout')}:latest`], {
              timeoutMs,
            });
            this.storeBytes = await diskUsage(d.path);
            return r;
          } finally {
            await d.remove();
          }
        },
      },
    ];

    // Warm the registry (its blob files into the page cache) once, untimed, for everyone.
    const warm = await impls[3].once(-1);
    if (warm.code !== 0) throw new Error(`warm-up skopeo copy from ${ref}: ${failureLine(warm)}`);
    await run(['sync']);

    for (let i = 0; i < opts.pullIterations; i++) {
      const order = [...impls.slice(i % impls.length), ...impls.slice(0, i % impls.length)];
      for (const impl of order) {
        checkAborted();
        if (impl.failed) continue;
        const r = await impl.once(i);
        await run(['sync']);
        if (r.code !== 0) {
          impl.failed = failureLine(r);
          ctx.log(`pull: ${impl.name}: failed: ${impl.failed}`);
        } else {
          impl.samples.push(r.ms);
          ctx.log(`pull: ${impl.name} #${i + 1}: ${fmtMs(r.ms)}`);
        }
      }
    }

    const c = newCase('pull', `${image.layers}-layer image, ${(image.uncompressedBytes / 2 ** 20).toFixed(0)} MB (${(image.compressedBytes / 2 ** 20).toFixed(0)} MB gzip), empty store`, 'one pull, fetch + unpack', 'berth');
    for (const impl of impls) {
      let row: Row;
      const stored = impl.storeBytes === undefined ? undefined : `store ${(impl.storeBytes / 2 ** 20).toFixed(0)} MB`;
      const note = [impl.note, stored, impl.failed && `then failed: ${impl.failed}`].filter(Boolean).join('; ');
      if (impl.failed && impl.samples.length === 0) row = failedRow(impl.name, impl.failed);
      else row = okRow(impl.name, impl.samples, note ? { note } : {});
      c.rows.push(row);
    }
    c.notes.push('podman and ctr unpack while pulling, so their pull is also their time to a runnable rootfs; skopeo only copies blobs into an OCI layout (the floor set by the wire and the disk).');

    const rootfs = newCase('pull', 'time to a runnable rootfs', 'berth: its pull + `create` (writable snapshot on the image)', 'berth');
    if (!prep) rootfs.rows.push(skippedRow('berth', 'the berth CLI has no command that prepares a rootfs yet'));
    else if (rootfsSamples.length === 0) rootfs.rows.push(failedRow('berth', rootfsFailed ?? c.rows[0].reason ?? 'no sample'));
    else rootfs.rows.push(okRow('berth', rootfsSamples, rootfsFailed ? { note: `then failed: ${rootfsFailed}` } : {}));
    for (const impl of impls.slice(1, 3)) {
      const row = c.rows.find((r) => r.impl === impl.name)!;
      rootfs.rows.push({ ...row, note: 'its pull (unpacks while pulling)' });
    }
    return [c, rootfs];
  },
};
