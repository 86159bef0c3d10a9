/**
 * A tiny HTTP proxy in front of a real registry, for faults a real registry does not make:
 * a blob whose bytes are corrupted, a connection cut mid-blob, a 500 mid-stream. It counts
 * requests by method and path so tests can see what was fetched how often.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from '../../harness/index.js';

export type Fault =
  | { kind: 'corrupt' }
  | { kind: 'cut'; after: number }
  | { kind: 'status'; status: number }
  | { kind: 'slow'; bytesPerTick: number; tickMs: number }
  /** Forward without the Range header: the registry answers 200 with the whole blob. */
  | { kind: 'ignore-range' }
  /** Answer 307 to the registry itself (as a registry redirecting to its storage does). */
  | { kind: 'redirect' }
  /** Answer with this body instead of the registry's. */
  | { kind: 'body'; body: Buffer; contentType: string };

export interface Proxy {
  host: string;
  /** Requests seen: `GET /v2/x/blobs/sha256:...` -> count. */
  counts: Map<string, number>;
  /** Range headers seen per path. */
  ranges: Map<string, string[]>;
  /** Decide a fault for a request (called for every request; undefined = pass through). */
  fault: (method: string, path: string, n: number) => Fault | undefined;
  close(): Promise<void>;
}

export async function startProxy(reg: Registry): Promise<Proxy> {
  const target = new URL(reg.url);
  const sockets = new Set<import('node:net').Socket>();
  const proxy: Proxy = {
    host: '',
    counts: new Map(),
    ranges: new Map(),
    fault: () => undefined,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const key = `${req.method} ${path}`;
    const n = (proxy.counts.get(key) ?? 0) + 1;
    proxy.counts.set(key, n);
    if (req.headers.range) proxy.ranges.set(path, [...(proxy.ranges.get(path) ?? []), String(req.headers.range)]);
    const fault = proxy.fault(req.method ?? 'GET', path, n);
    if (fault?.kind === 'redirect') {
      res.writeHead(307, { Location: `${reg.url}${req.url}` });
      res.end();
      return;
    }
    if (fault?.kind === 'body') {
      res.writeHead(200, { 'Content-Type': fault.contentType, 'Content-Length': String(fault.body.length) });
      res.end(fault.body);
      return;
    }
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'Content-Type': 'text/plain' });
      res.end('injected failure\n');
      return;
    }
    const headers = { ...req.headers, host: target.host };
    if (fault?.kind === 'ignore-range') delete headers.range;
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (!fault || fault.kind === 'ignore-range') {
        ur.pipe(res);
        return;
      }
      let sent = 0;
      let flipped = false;
      ur.on('data', (chunk: Buffer) => {
        if (fault.kind === 'corrupt' && !flipped && chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[chunk.length >> 1] ^= 0xff;
          flipped = true;
        }
        if (fault.kind === 'cut' && sent + chunk.length >= fault.after) {
          res.write(chunk.subarray(0, Math.max(0, fault.after - sent)));
          ur.destroy();
          res.socket?.destroy();
          return;
        }
        sent += chunk.length;
        if (fault.kind === 'slow') {
          ur.pause();
          let off = 0;
          const tick = () => {
            if (res.destroyed) return ur.destroy();
            res.write(chunk.subarray(off, off + fault.bytesPerTick));
            off += fault.bytesPerTick;
            if (off < chunk.length) setTimeout(tick, fault.tickMs);
            else ur.resume();
          };
          tick();
          return;
        }
        res.write(chunk);
      });
      ur.on('end', () => {
        if (!res.destroyed) res.end();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
