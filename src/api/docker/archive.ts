import type { PathStat } from '../../engine/tree-tar.js';
import { archiveFromContainer, extractToContainer, statContainerPath } from '../../engine/index.js';
import { BerthError } from '../../errors/index.js';
import { qbool, res, sendEmpty, type Ctx } from './http.js';

/**
 * st_mode as Go's os.FileMode, which docker's stat header carries: permissions in the low
 * bits, the type and setuid/setgid/sticky as high flag bits (Go io/fs FileMode constants).
 */
function goFileMode(mode: number): number {
  let m = mode & 0o777;
  const fmt = mode & 0o170000;
  if (fmt === 0o040000) m += 2 ** 31; // ModeDir
  else if (fmt === 0o120000) m += 2 ** 27; // ModeSymlink
  else if (fmt === 0o010000) m += 2 ** 25; // ModeNamedPipe
  else if (fmt === 0o140000) m += 2 ** 24; // ModeSocket
  else if (fmt === 0o060000) m += 2 ** 26; // ModeDevice
  else if (fmt === 0o020000) m += 2 ** 26 + 2 ** 21; // ModeDevice | ModeCharDevice
  if (mode & 0o4000) m += 2 ** 23; // ModeSetuid
  if (mode & 0o2000) m += 2 ** 22; // ModeSetgid
  if (mode & 0o1000) m += 2 ** 20; // ModeSticky
  return m;
}

/** X-Docker-Container-Path-Stat: base64 of moby's ContainerPathStat JSON. */
function statHeader(st: PathStat): string {
  const j = { name: st.name, size: st.size, mode: goFileMode(st.mode), mtime: st.mtime.toISOString(), linkTarget: st.linkTarget };
  return Buffer.from(JSON.stringify(j)).toString('base64');
}

function pathQuery(ctx: Ctx): string {
  const p = ctx.query.get('path');
  if (!p) throw new BerthError('INVALID_ARGUMENT', 'path is required');
  return p;
}

/** HEAD /containers/{id}/archive?path= */
export async function archiveHead(ctx: Ctx): Promise<void> {
  const path = pathQuery(ctx);
  const st = await statContainerPath(ctx.engine, ctx.params[0], path);
  if (!st) throw new BerthError('NOT_FOUND', `Could not find the file ${path} in container ${ctx.params[0]}`);
  const r = res(ctx);
  r.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(st), 'Content-Type': 'application/x-tar' });
  r.end();
}

/** GET /containers/{id}/archive?path=: a tar of the path, its stat in the header. */
export async function archiveGet(ctx: Ctx): Promise<void> {
  const path = pathQuery(ctx);
  const ref = ctx.params[0];
  const st0 = await statContainerPath(ctx.engine, ref, path);
  if (!st0) throw new BerthError('NOT_FOUND', `Could not find the file ${path} in container ${ref}`);
  const { stat, tar } = await archiveFromContainer(ctx.engine, ref, path);
  const r = res(ctx);
  r.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
  r.on('close', () => tar.destroy());
  tar.on('error', () => r.destroy());
  tar.pipe(r);
}

/** PUT /containers/{id}/archive?path=DIR: unpack the body (a tar) into DIR. */
export async function archivePut(ctx: Ctx): Promise<void> {
  const path = pathQuery(ctx);
  await extractToContainer(ctx.engine, ctx.params[0], path, ctx.req, qbool(ctx.query, 'copyUIDGID') ? { owner: 'keep' } : {});
  sendEmpty(ctx, 200);
}
