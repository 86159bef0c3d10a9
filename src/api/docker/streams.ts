import type { Duplex, Writable } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import { containerLogs, refreshContainer, type ContainerRecord } from '../../engine/index.js';
import { attach as monitorAttach, type AttachChunk, type MonitorAttach } from '../../engine/monitor/index.js';
import { qbool, qint, res, sendEmpty, type Ctx } from './http.js';

/**
 * The stdcopy frame of a non-TTY stream (moby pkg/stdcopy): 1 byte stream (0 stdin, 1 stdout,
 * 2 stderr), 3 zero bytes, 4 bytes big-endian payload length, then the payload.
 */
export function frame(stream: 'stdout' | 'stderr', data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream === 'stdout' ? 1 : 2;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

/** docker's since/until query: unix seconds with an optional fraction. */
function timeQuery(v: string | null): number | undefined {
  if (!v || v === '0') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new BerthError('INVALID_ARGUMENT', `invalid time ${JSON.stringify(v)}`);
  return n;
}

/** GET /containers/{id}/logs */
export async function containerLogsRoute(ctx: Ctx): Promise<void> {
  const rec = ctx.engine.containers.find(ctx.params[0]);
  const q = ctx.query;
  const wantOut = qbool(q, 'stdout');
  const wantErr = qbool(q, 'stderr');
  if (!wantOut && !wantErr) throw new BerthError('INVALID_ARGUMENT', 'you must choose at least one stream');
  const tty = !!rec.config.tty;
  const tailRaw = q.get('tail');
  const tail = tailRaw && tailRaw !== 'all' ? qint(q, 'tail') : undefined;
  const since = timeQuery(q.get('since'));
  const until = timeQuery(q.get('until'));
  const r = res(ctx);
  r.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  r.flushHeaders();
  const ac = new AbortController();
  r.on('close', () => ac.abort());
  try {
    for await (const e of containerLogs(ctx.engine, rec.id, {
      follow: qbool(q, 'follow'),
      ...(tail !== undefined && tail >= 0 ? { tail } : {}),
      ...(since !== undefined ? { since } : {}),
      timestamps: qbool(q, 'timestamps'),
      signal: ac.signal,
    })) {
      if (until !== undefined && Date.parse(e.time) / 1000 > until) break;
      if (e.stream === 'stdout' ? !wantOut : !wantErr) continue;
      const data = Buffer.from(e.partial ? e.line : `${e.line}\n`);
      if (!r.write(tty ? data : frame(e.stream, data))) await new Promise((res) => r.once('drain', res));
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  }
  r.end();
}

/** Relay a monitor attach to a client connection until the container's output ends. */
function relay(a: MonitorAttach, out: Writable, input: Duplex | undefined, opts: { tty: boolean; stdout: boolean; stderr: boolean; stdin: boolean; head?: Buffer }): void {
  a.on('data', (c: AttachChunk) => {
    if (c.stream === 'stdout' ? !opts.stdout : !opts.stderr) return;
    out.write(opts.tty ? c.data : frame(c.stream, c.data));
  });
  a.on('error', () => {});
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    out.end();
    a.destroy();
  };
  a.once('end', finish);
  a.once('close', finish);
  if (opts.stdin && input) {
    if (opts.head?.length) a.write(opts.head);
    input.on('data', (d: Buffer) => a.write(d));
    // the client closed its write side (stdin EOF): close the container's stdin
    input.once('end', () => a.end());
  }
  input?.once('close', () => {
    if (!finished) a.destroy();
  });
}

/**
 * POST /containers/{id}/attach: with `Upgrade: tcp` the connection is hijacked (101, then raw
 * bytes both ways); without it the response body carries the output. A container that is
 * created but not started is attached when it starts (docker run: attach, wait, start).
 */
export async function containerAttach(ctx: Ctx): Promise<void> {
  const rec: ContainerRecord = refreshContainer(ctx.engine, ctx.engine.containers.find(ctx.params[0]));
  const q = ctx.query;
  const opts = { tty: !!rec.config.tty, stdout: qbool(q, 'stdout'), stderr: qbool(q, 'stderr'), stdin: qbool(q, 'stdin') && !!rec.config.openStdin, ...(ctx.head ? { head: ctx.head } : {}) };
  const contentType = opts.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
  let out: Writable;
  let input: Duplex | undefined;
  if (ctx.socket) {
    ctx.socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    out = ctx.socket;
    input = ctx.socket;
    ctx.socket.on('error', () => {});
  } else {
    const r = res(ctx);
    r.writeHead(200, { 'Content-Type': contentType });
    r.flushHeaders();
    out = r;
  }
  if (qbool(q, 'logs')) {
    for await (const e of containerLogs(ctx.engine, rec.id, {})) {
      if (e.stream === 'stdout' ? !opts.stdout : !opts.stderr) continue;
      const data = Buffer.from(e.partial ? e.line : `${e.line}\n`);
      out.write(opts.tty ? data : frame(e.stream, data));
    }
  }
  if (!qbool(q, 'stream')) {
    out.end();
    return;
  }
  const st = rec.state.status;
  if (st === 'running' || st === 'paused' || st === 'restarting') {
    const a = await monitorAttach(ctx.engine.paths(rec.id).dir, rec.name);
    relay(a, out, input, opts);
    return;
  }
  if (st === 'created' || st === 'exited') {
    // attached when the container starts (POST /start hands over the monitor's attach)
    const list = ctx.daemon.pendingAttach.get(rec.id) ?? [];
    const conn = (input ?? ctx.req.socket) as Duplex;
    const p = { deliver: (a: MonitorAttach) => relay(a, out, input, opts), stdin: opts.stdin, conn };
    list.push(p);
    ctx.daemon.pendingAttach.set(rec.id, list);
    conn.once('close', () => {
      const l = ctx.daemon.pendingAttach.get(rec.id);
      if (l) {
        const i = l.indexOf(p);
        if (i >= 0) l.splice(i, 1);
        if (!l.length) ctx.daemon.pendingAttach.delete(rec.id);
      }
    });
    return;
  }
  out.end();
}

/** POST /containers/{id}/resize?h=&w= */
export async function containerResize(ctx: Ctx): Promise<void> {
  const rec = refreshContainer(ctx.engine, ctx.engine.containers.find(ctx.params[0]));
  const h = qint(ctx.query, 'h');
  const w = qint(ctx.query, 'w');
  if (h === undefined || w === undefined) throw new BerthError('INVALID_ARGUMENT', 'h and w are required');
  if (rec.state.status !== 'running') throw new BerthError('CONFLICT', `Container ${rec.id} is not running`);
  if (rec.config.tty) {
    const a = await monitorAttach(ctx.engine.paths(rec.id).dir, rec.name);
    a.on('error', () => {});
    a.resize(h, w);
    // give the frame time to leave; end() would close the container's stdin
    setTimeout(() => a.destroy(), 200).unref();
  }
  sendEmpty(ctx, 200);
}
