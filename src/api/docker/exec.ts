import type { Duplex, Writable } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import { createExec, execContainer, findExec, finishExec, refreshExec, updateExec, type ExecOptions, type ExecRecord } from '../../engine/index.js';
import { waitExit, type AttachChunk, type MonitorAttach } from '../../engine/monitor/index.js';
import { qint, readJson, res, sendEmpty, sendJson, type Ctx } from './http.js';
import { frame } from './streams.js';

/**
 * The attach of each exec this daemon started, for resize; the instances themselves are the
 * engine's (`exec-<id>.json` in the container's state dir), so a restarted daemon knows them.
 */
const ATTACHED = new WeakMap<object, Map<string, MonitorAttach>>();

function attached(ctx: Ctx): Map<string, MonitorAttach> {
  let m = ATTACHED.get(ctx.daemon);
  if (!m) ATTACHED.set(ctx.daemon, (m = new Map()));
  return m;
}

const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** POST /containers/{id}/exec (moby ExecConfig). */
export async function execCreate(ctx: Ctx): Promise<void> {
  const ref = ctx.params[0];
  ctx.engine.containers.find(ref);
  const b = await readJson(ctx);
  const cmd = strs(b.Cmd);
  const cs = Array.isArray(b.ConsoleSize) ? (b.ConsoleSize as number[]) : undefined;
  const opts: ExecOptions = {
    cmd,
    env: strs(b.Env),
    tty: !!b.Tty,
    stdin: !!b.AttachStdin,
    privileged: !!b.Privileged,
    ...(typeof b.User === 'string' && b.User ? { user: b.User } : {}),
    ...(typeof b.WorkingDir === 'string' && b.WorkingDir ? { workdir: b.WorkingDir } : {}),
    ...(cs && cs[0] && cs[1] ? { size: { rows: cs[0], cols: cs[1] } } : {}),
  };
  const rec = createExec(ctx.engine, ref, opts, { stdin: !!b.AttachStdin, stdout: !!b.AttachStdout, stderr: !!b.AttachStderr });
  sendJson(ctx, 201, { Id: rec.id });
}

/** The JSON body of a hijacked request: Node hands the bytes after the headers in `head`. */
async function hijackedBody(ctx: Ctx): Promise<Record<string, unknown>> {
  const len = Number(ctx.req.headers['content-length'] ?? 0);
  let buf = ctx.head ?? Buffer.alloc(0);
  const sock = ctx.socket!;
  while (buf.length < len) {
    const more = await new Promise<Buffer | null>((resolve) => {
      const onData = (d: Buffer) => {
        sock.off('end', onEnd);
        sock.pause();
        resolve(d);
      };
      const onEnd = () => {
        sock.off('data', onData);
        resolve(null);
      };
      sock.once('data', onData);
      sock.once('end', onEnd);
      sock.resume();
    });
    if (!more) break;
    buf = Buffer.concat([buf, more]);
  }
  ctx.head = buf.subarray(len);
  const text = buf.subarray(0, len).toString('utf8');
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `invalid JSON in request body: ${(err as Error).message}`);
  }
}

/** Record the exit of an exec's process once its monitor wrote it (the engine drops its state dir). */
async function reap(ctx: Ctx, e: ExecRecord, stateDir: string): Promise<void> {
  let code = 126;
  try {
    code = (await waitExit(stateDir)).exitCode;
  } catch {
    /* no monitor and no exit: it could not run */
  }
  attached(ctx).delete(e.id);
  try {
    finishExec(ctx.engine, refreshExec(ctx.engine, e), code);
  } catch {
    /* the container was removed meanwhile, and its execs with it */
  }
}

/**
 * POST /exec/{id}/start: hijacked (Upgrade: tcp) or the output in the response body;
 * multiplexed stdcopy frames without a tty, raw bytes with one. Detach: start and answer.
 */
export async function execStart(ctx: Ctx): Promise<void> {
  let e = findExec(ctx.engine, ctx.params[0]);
  const b = ctx.socket ? await hijackedBody(ctx) : await readJson(ctx, true);
  if (e.started) throw new BerthError('CONFLICT', `exec ${e.id} has already been started`);
  const detach = !!b.Detach;
  const cs = Array.isArray(b.ConsoleSize) ? (b.ConsoleSize as number[]) : undefined;
  const opts: ExecOptions = { ...e.opts, detach, ...(cs && cs[0] && cs[1] ? { size: { rows: cs[0], cols: cs[1] } } : {}) };
  if (detach) opts.stdin = false;
  e = updateExec(ctx.engine, e, { started: true });
  let session;
  try {
    session = await execContainer(ctx.engine, e.containerId, opts, e.id);
  } catch (err) {
    // dockerd answers the start and reports a command that cannot run in the stream, with
    // exit code 127 (not found) or 126 (not executable): clients read it from inspect
    e = updateExec(ctx.engine, e, { exitCode: err instanceof BerthError && err.code === 'NOT_FOUND' ? 127 : 126 });
    if (detach) throw err;
    const msg = Buffer.from(`OCI runtime exec failed: ${(err as Error).message}\r\n`);
    const ct = opts.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
    if (ctx.socket) {
      ctx.socket.on('error', () => {});
      ctx.socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${ct}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      ctx.socket.end(opts.tty ? msg : frame('stderr', msg));
    } else {
      const r = res(ctx);
      r.writeHead(200, { 'Content-Type': ct });
      r.end(opts.tty ? msg : frame('stderr', msg));
    }
    return;
  }
  const stateDir = session.stateDir;
  e = updateExec(ctx.engine, e, { running: true, pid: session.pid, stateDir });
  if (!session.attach) {
    void reap(ctx, e, stateDir);
    if (ctx.socket) {
      ctx.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sendEmpty(ctx, 200);
    return;
  }
  const a = session.attach;
  attached(ctx).set(e.id, a);
  const tty = !!opts.tty;
  const contentType = tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
  let out: Writable;
  let input: Duplex | undefined;
  if (ctx.socket) {
    ctx.socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    ctx.socket.on('error', () => {});
    out = ctx.socket;
    input = ctx.socket;
  } else {
    const r = res(ctx);
    r.writeHead(200, { 'Content-Type': contentType });
    r.flushHeaders();
    out = r;
  }
  a.on('data', (c: AttachChunk) => {
    if (c.stream === 'stdout' ? !e.attachStdout : !e.attachStderr) return;
    out.write(tty ? c.data : frame(c.stream, c.data));
  });
  a.on('error', () => {});
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    a.destroy();
    // the exit code is known before the client sees the end (docker exec inspects it next)
    void reap(ctx, e, stateDir).then(() => out.end());
  };
  a.once('end', finish);
  a.once('close', finish);
  if (opts.stdin && input) {
    if (ctx.head?.length) a.write(ctx.head);
    input.on('data', (d: Buffer) => a.write(d));
    input.once('end', () => a.end());
  }
  input?.resume();
}

/** GET /exec/{id}/json */
export function execInspect(ctx: Ctx): void {
  const e = findExec(ctx.engine, ctx.params[0]);
  sendJson(ctx, 200, {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: {
      tty: !!e.opts.tty,
      entrypoint: e.opts.cmd[0],
      arguments: e.opts.cmd.slice(1),
      privileged: !!e.opts.privileged,
      ...(e.opts.user ? { user: e.opts.user } : {}),
    },
    OpenStdin: e.attachStdin,
    OpenStderr: e.attachStderr,
    OpenStdout: e.attachStdout,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: '',
    Pid: e.pid,
  });
}

/** POST /exec/{id}/resize?h=&w= */
export function execResize(ctx: Ctx): void {
  const e = findExec(ctx.engine, ctx.params[0]);
  const h = qint(ctx.query, 'h');
  const w = qint(ctx.query, 'w');
  if (h === undefined || w === undefined) throw new BerthError('INVALID_ARGUMENT', 'h and w are required');
  if (!e.running) throw new BerthError('CONFLICT', `exec ${e.id} is not running`);
  const a = attached(ctx).get(e.id);
  if (e.opts.tty && a) a.resize(h, w);
  sendEmpty(ctx, 200);
}
