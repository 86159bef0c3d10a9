import type { ServerResponse } from 'node:http';
import { BerthError, formatError, isBerthError } from '../../errors/index.js';
import {
  familiarString,
  findImage,
  inspectImage,
  listImages,
  loadImages,
  parsePlatform,
  parseReference,
  pruneImages,
  pull,
  push,
  removeImage,
  saveImages,
  tag,
  type PullEvent,
  type PushEvent,
} from '../../image/index.js';
import { qbool, qfilters, filterMap, res, sendJson, unixSeconds, type Ctx } from './http.js';

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

/** "[=====>     ]" as docker's jsonmessage draws a progress bar. */
function bar(cur: number, total: number): string {
  if (total <= 0) return '';
  const w = 50;
  const n = Math.min(w, Math.floor((cur / total) * w));
  return `[${'='.repeat(Math.max(0, n - 1))}${n > 0 ? '>' : ''}${' '.repeat(w - n)}]`;
}

/** A JSON-lines progress stream as `docker pull/push/load` read it (moby pkg/jsonmessage). */
function progressStream(r: ServerResponse) {
  r.writeHead(200, { 'Content-Type': 'application/json' });
  r.flushHeaders();
  return {
    write: (m: Record<string, unknown>) => r.write(JSON.stringify(m) + '\r\n'),
    fail: (err: unknown) => {
      const message = formatError(err);
      r.write(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
    },
    end: () => r.end(),
  };
}

/** The reference of `fromImage` + `tag` (a tag, or a digest). */
function refOf(image: string, tagOrDigest: string | null): string {
  if (!tagOrDigest) return image;
  return tagOrDigest.includes(':') ? `${image}@${tagOrDigest}` : `${image}:${tagOrDigest}`;
}

/** GET /images/json */
export async function imageList(ctx: Ctx): Promise<void> {
  const f = filterMap(qfilters(ctx.query));
  const list = await listImages(ctx.engine.images);
  const users = new Map<string, number>();
  for (const c of ctx.engine.containers.list()) users.set(c.imageId, (users.get(c.imageId) ?? 0) + 1);
  const byId = new Map<string, typeof list>();
  for (const i of list) byId.set(i.id, [...(byId.get(i.id) ?? []), i]);
  const out = [];
  for (const [id, imgs] of byId) {
    const tags = imgs.filter((i) => i.tag !== '<none>').map((i) => `${i.repository}:${i.tag}`);
    if (f.has('reference') && !f.get('reference')!.some((r) => tags.some((t) => globMatch(r, t) || globMatch(r, t.replace(/:[^:/]+$/, ''))))) continue;
    if (f.has('dangling') && f.get('dangling')!.includes('true') !== (tags.length === 0)) continue;
    out.push({
      Id: id,
      ParentId: '',
      RepoTags: tags,
      RepoDigests: imgs.map((i) => `${i.repository}@${i.digest}`),
      Created: unixSeconds(imgs[0].created),
      Size: imgs[0].size,
      SharedSize: -1,
      VirtualSize: imgs[0].size,
      Labels: {},
      Containers: users.get(id) ?? -1,
    });
  }
  sendJson(ctx, 200, out);
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  return re.test(s);
}

/** POST /images/create?fromImage=&tag=: pull, streaming docker's progress messages. */
export async function imageCreate(ctx: Ctx): Promise<void> {
  const from = ctx.query.get('fromImage');
  if (!from) {
    if (ctx.query.get('fromSrc')) throw new BerthError('NOT_IMPLEMENTED', 'image import (fromSrc) is not supported; use docker load');
    throw new BerthError('INVALID_ARGUMENT', 'fromImage is required');
  }
  const input = refOf(from, ctx.query.get('tag'));
  const ref = parseReference(input);
  const platform = ctx.query.get('platform');
  const out = progressStream(res(ctx));
  const ac = new AbortController();
  ctx.res!.on('close', () => {
    if (!ctx.res!.writableFinished) ac.abort();
  });
  out.write({ status: `Pulling from ${familiarString({ ...ref, tag: undefined, digest: undefined })}`, id: ref.tag ?? ref.digest ?? 'latest' });
  const sizes = new Map<string, number>();
  const onEvent = (e: PullEvent) => {
    if (e.type === 'layer') {
      const id = short(e.digest);
      sizes.set(e.digest, e.size);
      const status = {
        waiting: 'Pulling fs layer',
        downloading: 'Downloading',
        exists: 'Already exists',
        downloaded: 'Download complete',
        unpacking: 'Extracting',
        unpacked: 'Pull complete',
        'already-unpacked': 'Already exists',
      }[e.status];
      out.write({ status, progressDetail: {}, id });
    } else if (e.type === 'progress') {
      out.write({ status: 'Downloading', progressDetail: { current: e.bytes, total: e.size }, progress: bar(e.bytes, e.size), id: short(e.digest) });
    }
  };
  try {
    const r = await pull(ctx.engine.images, input, { ...(platform ? { platform: parsePlatform(platform) } : {}), onEvent, signal: ac.signal });
    out.write({ status: `Digest: ${r.digest}` });
    out.write({ status: `Status: ${r.fetched > 0 ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarString(parseReference(r.name))}` });
  } catch (err) {
    out.fail(err);
  }
  out.end();
}

/** docker's wording for a missing image ("No such image: x"), which clients match on. */
async function noSuchImage<T>(name: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (isBerthError(err, 'NOT_FOUND')) throw new BerthError('NOT_FOUND', `No such image: ${name}`, { cause: err });
    throw err;
  }
}

/** GET /images/{name}/json */
export async function imageInspect(ctx: Ctx): Promise<void> {
  const v = await noSuchImage(ctx.params[0], inspectImage(ctx.engine.images, ctx.params[0]));
  const cfg = (v.Config ?? {}) as Record<string, unknown>;
  sendJson(ctx, 200, {
    ...v,
    Parent: '',
    Comment: '',
    Container: '',
    DockerVersion: '',
    VirtualSize: v.Size,
    GraphDriver: { Name: ctx.engine.snapshotter.name, Data: null },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    Config: { Env: null, Cmd: null, Entrypoint: null, WorkingDir: '', Labels: null, ...cfg },
    ContainerConfig: null,
  });
}

/** GET /images/{name}/history */
export async function imageHistory(ctx: Ctx): Promise<void> {
  const img = await noSuchImage(ctx.params[0], findImage(ctx.engine.images, ctx.params[0]));
  const hist = img.config.history ?? [];
  const layers = img.manifest.layers;
  let li = 0;
  const rows = hist.map((h, i) => {
    const size = h.empty_layer ? 0 : (layers[li++]?.size ?? 0);
    return { Id: i === hist.length - 1 ? img.id : '<missing>', Created: unixSeconds(h.created), CreatedBy: h.created_by ?? '', Tags: i === hist.length - 1 ? [] : null, Size: size, Comment: h.comment ?? '' };
  });
  sendJson(ctx, 200, rows.reverse());
}

/** POST /images/{name}/tag?repo=&tag= */
export async function imageTag(ctx: Ctx): Promise<void> {
  const repo = ctx.query.get('repo');
  if (!repo) throw new BerthError('INVALID_ARGUMENT', 'repo is required');
  const target = refOf(repo, ctx.query.get('tag'));
  await tag(ctx.engine.images, ctx.params[0], target);
  res(ctx).writeHead(201).end();
}

/** DELETE /images/{name}?force= */
export async function imageDelete(ctx: Ctx): Promise<void> {
  const name = ctx.params[0];
  let force = qbool(ctx.query, 'force');
  const img = await noSuchImage(name, findImage(ctx.engine.images, name));
  const byId = /^(sha256:)?[0-9a-f]{12,64}$/.test(name);
  if (!force) {
    const users = ctx.engine.containers.usingImage(img.id);
    const names = (await listImages(ctx.engine.images)).filter((i) => i.id === img.id);
    if (users.length && (byId || names.length <= 1)) {
      throw new BerthError('CONFLICT', `conflict: unable to ${byId ? 'delete' : 'remove repository reference'} ${byId ? short(img.id) : JSON.stringify(name)} (must be forced) - container ${users[0].slice(0, 12)} is using its referenced image ${short(img.id)}`);
    }
    // dockerd: removing one of several names of an image only untags it, even while in use
    if (!byId && names.length > 1) force = true;
  }
  const r = await removeImage(ctx.engine.images, name, { force });
  sendJson(ctx, 200, [...r.untagged.map((u) => ({ Untagged: familiarString(parseReference(u)) })), ...r.deleted.map((d) => ({ Deleted: d }))]);
}

/** POST /images/prune */
export async function imagePrune(ctx: Ctx): Promise<void> {
  const f = filterMap(qfilters(ctx.query));
  const all = (f.get('dangling') ?? []).includes('false');
  const r = await pruneImages(ctx.engine.images, { all });
  sendJson(ctx, 200, { ImagesDeleted: [...r.untagged.map((u) => ({ Untagged: u }))], SpaceReclaimed: (r as unknown as { reclaimed?: number }).reclaimed ?? 0 });
}

/** POST /images/{name}/push?tag= */
export async function imagePush(ctx: Ctx): Promise<void> {
  const input = refOf(ctx.params[0], ctx.query.get('tag'));
  const out = progressStream(res(ctx));
  const ref = parseReference(input);
  out.write({ status: `The push refers to repository [${familiarString({ ...ref, tag: undefined, digest: undefined })}]` });
  const onEvent = (e: PushEvent) => {
    if (e.type === 'layer') {
      const status = { pushing: 'Pushing', pushed: 'Pushed', exists: 'Layer already exists', mounted: 'Mounted from another repository' }[e.status];
      out.write({ status, progressDetail: {}, id: short(e.digest) });
    }
  };
  try {
    const r = await push(ctx.engine.images, input, { onEvent });
    out.write({ status: `${ref.tag ?? 'latest'}: digest: ${r.digest}`, progressDetail: {}, aux: { Tag: ref.tag ?? 'latest', Digest: r.digest } });
  } catch (err) {
    out.fail(err);
  }
  out.end();
}

/** GET /images/{name}/get and GET /images/get?names=: a docker-archive tar. */
export async function imageGet(ctx: Ctx): Promise<void> {
  const names = ctx.params[0] ? [ctx.params[0]] : ctx.query.getAll('names');
  if (!names.length) throw new BerthError('INVALID_ARGUMENT', 'no image names given');
  // resolve first so a missing image is a 404, not a broken tar
  for (const n of names) await noSuchImage(n, findImage(ctx.engine.images, n));
  const r = res(ctx);
  r.writeHead(200, { 'Content-Type': 'application/x-tar' });
  try {
    await saveImages(ctx.engine.images, names, r, { format: 'docker' });
  } catch {
    r.destroy();
    return;
  }
  r.end();
}

/** POST /images/load: a docker-archive or OCI layout tar in the body. */
export async function imageLoad(ctx: Ctx): Promise<void> {
  const names = await loadImages(ctx.engine.images, ctx.req);
  const quiet = qbool(ctx.query, 'quiet');
  const out = progressStream(res(ctx));
  for (const n of names) {
    out.write({ stream: `Loaded image: ${familiarString(parseReference(n))}\n` });
  }
  void quiet;
  out.end();
}
