import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { BerthError, formatError, toBerthError } from '../../errors/index.js';
import { socketAnswers } from '../../util/socket.js';
import type { Engine } from '../../engine/index.js';
import { HTTP_STATUS } from './errors.js';
import { sendError, type Ctx, type Handler } from './http.js';
import { ROUTES } from './routes.js';
import { DaemonState } from './state.js';
import { API_VERSION, MIN_API_VERSION } from './version.js';

interface Compiled {
  method: string;
  re: RegExp;
  handler: Handler;
}

const compiled: Compiled[] = ROUTES.map(([method, pattern, handler]) => ({
  method,
  // ":name" matches one segment; image names have slashes, so "*name" matches the rest
  re: new RegExp(`^${pattern.replace(/\*[a-z]+/g, '(.+?)').replace(/:[a-z]+/g, '([^/]+)')}$`),
  handler,
}));

const cmpVersion = (a: string, b: string) => {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
};

function route(method: string, path: string): { handler: Handler; params: string[] } | undefined {
  const m = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
  let pathMatched = false;
  for (const r of compiled) {
    const x = r.re.exec(path);
    if (!x) continue;
    pathMatched = true;
    if (m.includes(r.method)) return { handler: r.handler, params: x.slice(1).map(decodeURIComponent) };
  }
  if (pathMatched) return { handler: () => { throw new BerthError('INVALID_ARGUMENT', `method ${method} not allowed for ${path}`); }, params: [] };
  return undefined;
}

export interface DockerServerOptions {
  engine: Engine;
  /** unix socket path. */
  socket: string;
  /** Group owning the socket (default 0: root). */
  gid?: number;
  log?: (line: string) => void;
}

/**
 * The Docker Engine API over a unix socket: node:http, one route table, each route a thin
 * adapter over an engine call. Hijacked endpoints (attach, exec start) get the raw socket
 * through the 'upgrade' event, as dockerd's `Upgrade: tcp` handshake needs.
 */
export class DockerServer {
  readonly server: Server;
  readonly daemon = new DaemonState();
  readonly #engine: Engine;
  readonly #log: (line: string) => void;
  readonly #socket: string;
  readonly #gid: number;
  readonly #conns = new Set<Duplex>();

  constructor(opts: DockerServerOptions) {
    this.#engine = opts.engine;
    this.#log = opts.log ?? (() => {});
    this.#socket = opts.socket;
    this.#gid = opts.gid ?? 0;
    this.server = createServer({ keepAlive: true }, (req, res) => void this.#dispatch(req, res, undefined, undefined));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#dispatch(req, undefined, socket, head));
    this.server.on('connection', (s: Duplex) => {
      this.#conns.add(s);
      s.on('close', () => this.#conns.delete(s));
    });
    this.server.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"malformed request"}\n');
      else socket.destroy();
      void err;
    });
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.#socket), { recursive: true, mode: 0o755 });
    // a socket left by a crashed daemon; a live one answers connect, so refuse to steal it
    if (await socketAnswers(this.#socket)) throw new BerthError('ALREADY_EXISTS', `listen on ${this.#socket}: another daemon is serving it`);
    rmSync(this.#socket, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.#socket, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // mode 0660, group root: only root and the socket's group may talk to the daemon (dockerd's default)
    chmodSync(this.#socket, 0o660);
    chownSync(this.#socket, 0, this.#gid);
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      for (const c of this.#conns) c.destroy();
    });
    rmSync(this.#socket, { force: true });
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse | undefined, socket: Duplex | undefined, head: Buffer | undefined): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    let path = url.pathname.replace(/\/+$/, '') || '/';
    let version = API_VERSION;
    const vm = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
    const t0 = Date.now();
    const fail = (err: unknown) => {
      const e = toBerthError(err);
      if (e.code === 'INTERNAL') this.#log(`${req.method} ${req.url}: ${formatError(e)}`);
      if (res) sendError(res, e);
      else if (socket) {
        const body = JSON.stringify({ message: formatError(e) }) + '\n';
        socket.end(`HTTP/1.1 ${HTTP_STATUS[e.code]} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
    };
    try {
      if (vm) {
        version = vm[1];
        path = vm[2];
        if (cmpVersion(version, API_VERSION) > 0) {
          throw new BerthError('INVALID_ARGUMENT', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
        }
        if (cmpVersion(version, MIN_API_VERSION) < 0) {
          throw new BerthError('INVALID_ARGUMENT', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
        }
      }
      res?.setHeader('Api-Version', API_VERSION);
      res?.setHeader('Server', `berth (linux)`);
      const r = route(req.method ?? 'GET', path);
      if (!r) throw new BerthError('NOT_FOUND', `page not found`);
      const ctx: Ctx = { engine: this.#engine, daemon: this.daemon, req, res, socket, head, params: r.params, query: url.searchParams, version };
      await r.handler(ctx);
    } catch (err) {
      fail(err);
    } finally {
      if (process.env.BERTH_DEBUG) this.#log(`${req.method} ${req.url} ${res?.statusCode ?? 'hijack'} ${Date.now() - t0}ms`);
    }
  }
}
