import { BerthError } from '../../errors/index.js';
import type { Volume } from '../../engine/index.js';
import { checkFields, filterMap, qbool, qfilters, readJson, sendEmpty, sendJson, type Ctx } from './http.js';

function view(v: Volume, usage?: { size: number; refs: number }) {
  return {
    Name: v.name,
    Driver: 'local',
    Mountpoint: v.mountpoint,
    CreatedAt: v.created,
    Labels: v.labels,
    Scope: 'local',
    Options: {},
    ...(usage ? { UsageData: { Size: usage.size, RefCount: usage.refs } } : {}),
  };
}

/** GET /volumes?filters= */
export function volumeList(ctx: Ctx): void {
  const f = filterMap(qfilters(ctx.query));
  const vols = ctx.engine.volumes.list().filter((v) =>
    [...f].every(([k, vals]) =>
      vals.some((x) => {
        if (k === 'name') return v.name.includes(x);
        if (k === 'dangling') return (ctx.engine.volumes.usedBy(v.name).length === 0) === (x === 'true' || x === '1');
        if (k === 'driver') return x === 'local';
        if (k === 'label') {
          const i = x.indexOf('=');
          return i < 0 ? x in v.labels : v.labels[x.slice(0, i)] === x.slice(i + 1);
        }
        throw new BerthError('INVALID_ARGUMENT', `invalid filter '${k}'`);
      }),
    ),
  );
  sendJson(ctx, 200, { Volumes: vols.map((v) => view(v)), Warnings: [] });
}

/** POST /volumes/create */
export async function volumeCreate(ctx: Ctx): Promise<void> {
  const b = await readJson(ctx, true);
  checkFields(b, ['Name', 'Driver', 'DriverOpts', 'Labels', 'ClusterVolumeSpec'], 'volume create');
  if (b.Driver && b.Driver !== 'local') throw new BerthError('INVALID_ARGUMENT', `volume driver ${JSON.stringify(b.Driver)} is not supported: use local`);
  if (b.DriverOpts && Object.keys(b.DriverOpts as object).length) throw new BerthError('NOT_IMPLEMENTED', 'volume driver options are not supported');
  const v = ctx.engine.volumes.create({
    ...(typeof b.Name === 'string' && b.Name ? { name: b.Name } : {}),
    ...(b.Labels && typeof b.Labels === 'object' ? { labels: b.Labels as Record<string, string> } : {}),
  });
  sendJson(ctx, 201, view(v));
}

/** GET /volumes/{name} */
export function volumeInspect(ctx: Ctx): void {
  const v = ctx.engine.volumes.get(ctx.params[0]);
  sendJson(ctx, 200, view(v));
}

/** DELETE /volumes/{name}?force= */
export function volumeDelete(ctx: Ctx): void {
  const name = ctx.params[0];
  ctx.engine.volumes.get(name);
  const users = ctx.engine.volumes.usedBy(name);
  if (users.length && !qbool(ctx.query, 'force')) {
    throw new BerthError('CONFLICT', `remove ${name}: volume is in use - [${users.join(', ')}]`);
  }
  ctx.engine.volumes.remove(name, qbool(ctx.query, 'force'));
  sendEmpty(ctx);
}

/** POST /volumes/prune */
export function volumePrune(ctx: Ctx): void {
  const f = filterMap(qfilters(ctx.query));
  const r = ctx.engine.volumes.prune((f.get('all') ?? []).some((x) => x === 'true' || x === '1'));
  sendJson(ctx, 200, { VolumesDeleted: r.removed, SpaceReclaimed: r.reclaimed });
}
