import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | (() => Readable);
  signal?: AbortSignal;
  /** Abort when no bytes move for this long (ms). */
  idleTimeout?: number;
}

// Made on first use: loading node:http costs every CLI command a few ms (docs/engine.md, Cost).
let httpAgent: http.Agent | undefined;
let httpsAgent: https.Agent | undefined;

/**
 * The TLS agent, built on first use: Node's bundled roots plus the PEM files in
 * BERTH_EXTRA_CA_CERTS (bin/berth moves NODE_EXTRA_CA_CERTS there so that plain starts do not
 * pay for loading them).
 */
function tlsAgent(): https.Agent {
  if (httpsAgent) return httpsAgent;
  const ca = [...rootCertificates];
  const extra = process.env.BERTH_EXTRA_CA_CERTS;
  if (extra) {
    for (const file of extra.split(':').filter(Boolean)) {
      try {
        ca.push(readFileSync(file, 'utf8'));
      } catch (err) {
        throw BerthError.wrap(err, `load extra CA certificates from ${JSON.stringify(file)}`);
      }
    }
  }
  httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ca });
  return httpsAgent;
}

/** Send one request; resolves with the response head, the body left to read. */
export function send(req: HttpRequest): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = req.url.protocol === 'https:' ? https : http;
    const agent = req.url.protocol === 'https:' ? tlsAgent() : (httpAgent ??= new http.Agent({ keepAlive: true, maxSockets: 16 }));
    const headers: Record<string, string> = { 'User-Agent': 'berth/0.1', ...req.headers };
    if (Buffer.isBuffer(req.body)) headers['Content-Length'] = String(req.body.length);
    const r = mod.request(req.url, { method: req.method, headers, agent, signal: req.signal });
    r.setTimeout(req.idleTimeout ?? 30_000, () => r.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
    r.once('response', (res) => {
      res.setTimeout(req.idleTimeout ?? 30_000, () => res.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
      resolve(res);
    });
    r.once('error', reject);
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else {
      const body = req.body();
      body.once('error', (err) => r.destroy(err));
      body.pipe(r);
    }
  });
}

/** Read a whole response body, refusing more than `max` bytes. */
export async function readBody(res: http.IncomingMessage, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.destroy();
    throw new BerthError('RESOURCE_EXHAUSTED', `${what}: ${declared} bytes is over the ${max}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > max) {
      res.destroy();
      throw new BerthError('RESOURCE_EXHAUSTED', `${what}: more than the ${max}-byte limit`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Drain and drop a body so the connection can be reused. */
export async function discardBody(res: http.IncomingMessage): Promise<void> {
  try {
    for await (const _ of res) {
      // drop
    }
  } catch {
    // the connection is dropped anyway
  }
}

/** Whether a failure is worth another attempt: connection trouble, not a protocol answer. */
export function isTransient(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code)) return true;
  const msg = (err as Error)?.message ?? '';
  return /socket hang up|aborted|premature close/i.test(msg);
}
