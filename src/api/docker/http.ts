import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError, formatError, toBerthError } from '../../errors/index.js';
import type { Engine } from '../../engine/index.js';
import type { DaemonState } from './state.js';
import { HTTP_STATUS } from './errors.js';

/** One request as a route sees it. */
export interface Ctx {
  engine: Engine;
  daemon: DaemonState;
  req: IncomingMessage;
  /** Absent for a hijacked (Upgrade: tcp) request: write to `socket` instead. */
  res: ServerResponse | undefined;
  /** The raw connection of a hijacked request, with the bytes read past its headers in `head`. */
  socket: Duplex | undefined;
  head: Buffer | undefined;
  /** Path parameters in order (`:id`, `:name`). */
  params: string[];
  query: URLSearchParams;
  /** The API version the client asked for (from the path), or the server's. */
  version: string;
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

/** The raw response of a route that did not hijack. */
export function res(ctx: Ctx): ServerResponse {
  if (!ctx.res) throw new BerthError('INVALID_ARGUMENT', `${ctx.req.url}: this endpoint does not upgrade the connection`);
  return ctx.res;
}

export function sendJson(ctx: Ctx, status: number, body: unknown): void {
  const r = res(ctx);
  const data = Buffer.from(JSON.stringify(body) + '\n');
  r.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  r.end(data);
}

export function sendEmpty(ctx: Ctx, status = 204): void {
  const r = res(ctx);
  r.writeHead(status);
  r.end();
}

/** dockerd's error body: `{"message": "..."}` with the mapped status. */
export function sendError(r: ServerResponse, err: unknown): void {
  const e = toBerthError(err);
  const status = HTTP_STATUS[e.code];
  if (r.headersSent) {
    r.destroy();
    return;
  }
  const data = Buffer.from(JSON.stringify({ message: formatError(e) }) + '\n');
  r.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  r.end(data);
}

const MAX_BODY = 16 << 20;

/** The request body as text (empty string when there is none). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_BODY) throw new BerthError('INVALID_ARGUMENT', `request body larger than ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON object body; `optional` accepts an empty body as `{}`. */
export async function readJson(ctx: Ctx, optional = false): Promise<Record<string, unknown>> {
  const text = await readBody(ctx.req);
  if (!text.trim()) {
    if (optional) return {};
    throw new BerthError('INVALID_ARGUMENT', 'empty request body: a JSON object is required');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `invalid JSON in request body: ${(err as Error).message}`);
  }
  if (v === null && optional) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BerthError('INVALID_ARGUMENT', 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

/** Fields of `obj` not in `known` are an error: a typo must not be silently ignored. */
export function checkFields(obj: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) throw new BerthError('INVALID_ARGUMENT', `${what}: unknown field ${JSON.stringify(k)}`);
  }
}

/** Docker's boolean query values: 1/true/True (anything else but 0/false/empty is true too). */
export function qbool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !['', '0', 'false', 'False', 'FALSE', 'no'].includes(v);
}

export function qint(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new BerthError('INVALID_ARGUMENT', `invalid value for ${name}: ${JSON.stringify(v)} is not an integer`);
  return Number(v);
}

/**
 * The `filters` query parameter: JSON `{"key": ["v1", "v2"]}` or the old
 * `{"key": {"v1": true}}`; returned as "key=value" strings as the engine takes them.
 */
export function qfilters(q: URLSearchParams): string[] {
  const raw = q.get('filters');
  if (!raw) return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new BerthError('INVALID_ARGUMENT', `invalid filters: ${JSON.stringify(raw)} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BerthError('INVALID_ARGUMENT', 'invalid filters: a JSON object is required');
  const out: string[] = [];
  for (const [key, vals] of Object.entries(v as Record<string, unknown>)) {
    const list = Array.isArray(vals) ? vals : typeof vals === 'object' && vals ? Object.keys(vals).filter((k) => (vals as Record<string, unknown>)[k]) : [];
    for (const x of list) out.push(`${key}=${String(x)}`);
  }
  return out;
}

/** Filters as a map key -> values. */
export function filterMap(filters: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    const k = f.slice(0, i);
    m.set(k, [...(m.get(k) ?? []), f.slice(i + 1)]);
  }
  return m;
}

/** Unix seconds of an RFC 3339 time (0 when absent). */
export function unixSeconds(t: string | undefined): number {
  const n = t ? Date.parse(t) : NaN;
  return Number.isNaN(n) ? 0 : Math.floor(n / 1000);
}

export { toBerthError };
