import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { BerthError, type ErrorCode } from '../errors/index.js';
import { type Descriptor, MEDIA_TYPES } from '../spec/image.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { insecureRegistries, schemeFor } from './config.js';
import { CredentialStore, type Credentials } from './credentials.js';
import { discardBody, isTransient, readBody, send } from './http.js';

/** Manifests and indexes larger than this are refused (containerd caps them too). */
export const MAX_MANIFEST_SIZE = 4 << 20;

/** What the client accepts for a manifest, most specific first (distribution-spec pulling). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
].join(', ');

export interface RegistryOptions {
  /** berth root: its config.json may list insecure registries. */
  root?: string;
  insecure?: string[];
  credentials?: CredentialStore;
  /** Attempts after the first, for connection errors and 5xx answers. */
  retries?: number;
  /** First backoff delay (ms); doubles per attempt. */
  backoffMs?: number;
  /** Registry (as in references) -> base URL to talk to instead, e.g. a mirror. */
  endpoints?: Record<string, string>;
}

/** Where bytes of a blob go; the content store's ingest writer has this shape. */
export interface BlobSink {
  readonly written: number;
  write(chunk: Uint8Array): Promise<void>;
  reset(): Promise<void>;
}

export interface FetchedManifest {
  descriptor: Descriptor;
  data: Buffer;
}

type Action = 'pull' | 'push';

interface Call {
  method: string;
  /** Path under the registry base (`/v2/...`) or an absolute URL (upload locations, redirects). */
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | (() => Readable);
  /** Follow 3xx answers (blob GETs may redirect to storage). */
  follow?: boolean;
  signal?: AbortSignal;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'NOT_IMPLEMENTED',
  409: 'CONFLICT',
  413: 'RESOURCE_EXHAUSTED',
  416: 'INVALID_ARGUMENT',
  429: 'UNAVAILABLE',
};

/**
 * An OCI distribution-spec client over node:http/https: manifests and blobs, the Bearer token
 * and Basic auth flows, retries with backoff, resumable blob reads (Range), and pushes
 * (existence check, cross-repository mount, monolithic and chunked uploads, manifest PUT).
 */
export class RegistryClient {
  readonly #insecure: string[];
  readonly #creds: CredentialStore;
  readonly #retries: number;
  readonly #backoff: number;
  /** Tokens per registry and scope set; a promise, so concurrent calls share one token request. */
  readonly #tokens = new Map<string, { pending: Promise<{ token: string; life: number }>; token?: string; expires: number }>();
  /** The last auth challenge per registry, to authorize later calls up front. */
  readonly #challenges = new Map<string, Challenge>();
  readonly #override = new Map<string, Credentials>();
  readonly #endpoints: Map<string, URL>;

  constructor(opts: RegistryOptions = {}) {
    this.#insecure = opts.insecure ?? insecureRegistries(opts.root);
    this.#creds = opts.credentials ?? new CredentialStore();
    this.#retries = opts.retries ?? Number(process.env.BERTH_REGISTRY_RETRIES ?? 4);
    this.#backoff = opts.backoffMs ?? 200;
    this.#endpoints = new Map();
    for (const [domain, base] of Object.entries(opts.endpoints ?? {})) {
      try {
        this.#endpoints.set(domain, new URL(base.includes('://') ? base : `https://${base}`));
      } catch {
        throw new BerthError('INVALID_ARGUMENT', `registry endpoint for ${domain}: invalid URL ${JSON.stringify(base)}`);
      }
    }
  }

  /** Where calls for a registry go: its mirror or endpoint if configured, else itself. */
  baseUrl(domain: string): string {
    const ep = this.#endpoints.get(domain);
    if (ep) return `${ep.protocol}//${ep.host}`;
    return `${schemeFor(domain, this.#insecure)}://${domain}`;
  }

  #host(domain: string): string {
    return this.#endpoints.get(domain)?.host ?? domain;
  }

  /** Use these credentials for a registry instead of the stored ones (login). */
  useCredentials(domain: string, creds: Credentials): void {
    this.#override.set(domain, creds);
  }

  #credentials(domain: string): Credentials | undefined {
    const host = this.#host(domain);
    return this.#override.get(domain) ?? this.#creds.get(domain) ?? (host !== domain ? this.#creds.get(host) : undefined);
  }

  /** `GET /v2/`: checks that the registry answers and that the credentials are accepted. */
  async ping(domain: string): Promise<void> {
    const res = await this.#call(domain, [], { method: 'GET', url: '/v2/' });
    await discardBody(res);
    if (res.statusCode !== 200) throw statusError(res.statusCode ?? 0, `check registry ${domain}`, undefined);
  }

  /** Resolve a tag or digest to its manifest or index, verifying a digest reference. */
  async getManifest(domain: string, path: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const what = `get manifest ${domain}/${path}${reference.includes(":") ? "@" : ":"}${reference}`;
    const res = await this.#call(domain, [scope(path, 'pull')], {
      method: 'GET',
      url: `/v2/${path}/manifests/${reference}`,
      headers: { Accept: MANIFEST_ACCEPT },
      signal,
    });
    if (res.statusCode !== 200) throw statusError(res.statusCode ?? 0, what, await errorText(res));
    const data = await readBody(res, MAX_MANIFEST_SIZE, what);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (reference.includes(':') && reference !== digest) {
      throw new BerthError('INVALID_ARGUMENT', `${what}: content hashes to ${digest}, not the digest asked for`);
    }
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new BerthError('INVALID_ARGUMENT', `${what}: registry says digest ${header} but the content hashes to ${digest}`);
    }
    const mediaType = manifestMediaType(data, String(res.headers['content-type'] ?? ''), what);
    return { descriptor: { mediaType, digest, size: data.length }, data };
  }

  /**
   * Read a blob into `sink`, resuming with a Range request after a cut connection and
   * retrying connection errors and 5xx answers with backoff. Verification is the sink's job.
   */
  async fetchBlob(domain: string, path: string, desc: Descriptor, sink: BlobSink, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<void> {
    const what = `fetch blob ${desc.digest}`;
    let failures = 0;
    let total = 0;
    for (;;) {
      if (sink.written >= desc.size) return;
      const offset = sink.written;
      try {
        const headers: Record<string, string> = {};
        if (offset > 0) headers.Range = `bytes=${offset}-`;
        const res = await this.#call(domain, [scope(path, 'pull')], { method: 'GET', url: `/v2/${path}/blobs/${desc.digest}`, headers, follow: true, signal: opts.signal });
        if (res.statusCode === 416) {
          await discardBody(res);
          await sink.reset();
          throw Object.assign(new Error('range not satisfiable'), { code: 'ECONNRESET' });
        }
        if (res.statusCode !== 200 && res.statusCode !== 206) throw statusError(res.statusCode ?? 0, what, await errorText(res));
        if (res.statusCode === 200 && offset > 0) await sink.reset();
        if (res.statusCode === 206) {
          const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
          if (!m || Number(m[1]) !== offset) {
            await discardBody(res);
            await sink.reset();
            throw Object.assign(new Error(`registry answered range ${res.headers['content-range']}`), { code: 'ECONNRESET' });
          }
        }
        const before = sink.written;
        for await (const chunk of res) {
          await sink.write(chunk as Buffer);
          opts.onBytes?.((chunk as Buffer).length);
        }
        if (sink.written < desc.size) {
          // A body that ends early without an error (no Content-Length): resume from there.
          if (sink.written === before) throw new BerthError('UNAVAILABLE', `${what}: registry sent no data at offset ${before}`);
          throw Object.assign(new Error(`body ended at ${sink.written} of ${desc.size} bytes`), { code: 'ECONNRESET' });
        }
        return;
      } catch (err) {
        const progressed = sink.written > offset;
        total++;
        if (progressed) failures = 0;
        if (!isRetryable(err) || failures >= this.#retries || total > this.#retries * 4 + 8) {
          throw BerthError.wrap(err, what, isRetryable(err) ? 'UNAVAILABLE' : undefined);
        }
        failures++;
        await this.#wait(failures, opts.signal);
      }
    }
  }

  /** HEAD a blob: whether the repository has it. */
  async hasBlob(domain: string, path: string, digest: string, action: Action = 'pull'): Promise<boolean> {
    const res = await this.#call(domain, [scope(path, action)], { method: 'HEAD', url: `/v2/${path}/blobs/${digest}`, follow: true });
    await discardBody(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw statusError(res.statusCode ?? 0, `check blob ${digest} in ${domain}/${path}`, undefined);
  }

  /**
   * Upload a blob unless the repository has it: a cross-repository mount first when `mountFrom`
   * names a repository on the same registry that has it, then one monolithic PUT, or PATCH
   * chunks of `chunkSize` bytes (distribution-spec "pushing blobs in chunks").
   * Returns how the blob got there.
   */
  async pushBlob(
    domain: string,
    path: string,
    desc: Descriptor,
    open: (start: number, end: number) => Readable,
    opts: { mountFrom?: string; chunkSize?: number } = {},
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    const what = `push blob ${desc.digest} to ${domain}/${path}`;
    if (await this.hasBlob(domain, path, desc.digest, 'push')) return 'exists';
    const scopes = [scope(path, 'push')];
    let location: string | undefined;
    if (opts.mountFrom && opts.mountFrom !== path) {
      scopes.push(scope(opts.mountFrom, 'pull'));
      const res = await this.#call(domain, scopes, {
        method: 'POST',
        url: `/v2/${path}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(opts.mountFrom)}`,
        headers: { 'Content-Length': '0' },
      });
      await discardBody(res);
      if (res.statusCode === 201) return 'mounted';
      if (res.statusCode !== 202) throw statusError(res.statusCode ?? 0, `${what}: mount from ${opts.mountFrom}`, undefined);
      location = res.headers.location;
    }
    if (!location) {
      const res = await this.#call(domain, scopes, { method: 'POST', url: `/v2/${path}/blobs/uploads/`, headers: { 'Content-Length': '0' } });
      if (res.statusCode !== 202) throw statusError(res.statusCode ?? 0, `${what}: start upload`, await errorText(res));
      await discardBody(res);
      location = res.headers.location;
    }
    if (!location) throw new BerthError('UNAVAILABLE', `${what}: registry gave no upload location`);
    location = new URL(location, this.baseUrl(domain)).toString();
    const chunk = opts.chunkSize ?? 0;
    if (chunk > 0 && desc.size > 0) {
      for (let start = 0; start < desc.size; start += chunk) {
        const end = Math.min(desc.size, start + chunk) - 1;
        const loc: string = location;
        const res = await this.#call(domain, scopes, {
          method: 'PATCH',
          url: loc,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end}`, 'Content-Length': String(end - start + 1) },
          body: () => open(start, end),
        });
        if (res.statusCode !== 202) throw statusError(res.statusCode ?? 0, `${what}: upload chunk ${start}-${end}`, await errorText(res));
        await discardBody(res);
        location = new URL(res.headers.location ?? loc, this.baseUrl(domain)).toString();
      }
      const res = await this.#call(domain, scopes, { method: 'PUT', url: withDigest(location, desc.digest), headers: { 'Content-Length': '0' } });
      if (res.statusCode !== 201) throw statusError(res.statusCode ?? 0, `${what}: finish upload`, await errorText(res));
      await discardBody(res);
      return 'uploaded';
    }
    const loc = location;
    const res = await this.#call(domain, scopes, {
      method: 'PUT',
      url: withDigest(loc, desc.digest),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(desc.size) },
      body: () => open(0, desc.size - 1),
    });
    if (res.statusCode !== 201) throw statusError(res.statusCode ?? 0, `${what}: upload`, await errorText(res));
    await discardBody(res);
    return 'uploaded';
  }

  async putManifest(domain: string, path: string, reference: string, mediaType: string, data: Buffer): Promise<string> {
    const what = `push manifest ${domain}/${path}:${reference}`;
    const res = await this.#call(domain, [scope(path, 'push')], {
      method: 'PUT',
      url: `/v2/${path}/manifests/${reference}`,
      headers: { 'Content-Type': mediaType },
      body: data,
    });
    if (res.statusCode !== 201) throw statusError(res.statusCode ?? 0, what, await errorText(res));
    await discardBody(res);
    return `sha256:${createHash('sha256').update(data).digest('hex')}`;
  }

  async #wait(attempt: number, signal?: AbortSignal): Promise<void> {
    const ms = this.#backoff * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
    await sleep(Math.min(ms, 10_000), undefined, signal ? { signal } : undefined);
  }

  /**
   * One registry call with auth and retries: answers 401 with a fresh token (once), retries
   * connection errors, 429 and 5xx with backoff, follows redirects when asked. Resolves with a
   * response whose status the caller checks.
   */
  async #call(domain: string, scopes: string[], call: Call): Promise<IncomingMessage> {
    let url = new URL(call.url, this.baseUrl(domain));
    let attempt = 0;
    let authRetried = false;
    let redirects = 0;
    for (;;) {
      try {
        const headers: Record<string, string> = { ...call.headers };
        // Credentials go only to the registry itself, never to a storage backend it redirects to.
        let sent: string | undefined;
        if (url.host === this.#host(domain)) {
          sent = await this.#authorization(domain, scopes, call.signal);
          if (sent) headers.Authorization = sent;
        }
        const res = await send({ method: call.method, url, headers, body: call.body, signal: call.signal });
        const status = res.statusCode ?? 0;
        if (status === 401 && url.host === this.#host(domain) && !authRetried) {
          const challenges = parseChallenges(res.headers['www-authenticate']);
          await discardBody(res);
          const ch = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
          if (!ch) throw new BerthError('UNAUTHENTICATED', `${call.method} ${url.pathname}: registry ${domain} refused access and offers no supported auth scheme`);
          this.#challenges.set(domain, ch);
          // Only the token this call sent is stale; others (other scopes, fresher ones) stay.
          if (sent) this.#dropToken(domain, scopes, sent);
          authRetried = true;
          continue;
        }
        if (status >= 500 || status === 429) {
          const text = await errorText(res);
          throw Object.assign(new Error(`registry answered ${status}${text ? `: ${text}` : ''}`), { code: 'ECONNRESET', status });
        }
        if (call.follow && [301, 302, 303, 307, 308].includes(status) && res.headers.location) {
          await discardBody(res);
          if (++redirects > 5) throw new BerthError('UNAVAILABLE', `${call.method} ${url.pathname}: too many redirects`);
          url = new URL(res.headers.location, url);
          continue;
        }
        return res;
      } catch (err) {
        if (!isRetryable(err) || attempt >= this.#retries) {
          if (err instanceof BerthError) throw err;
          const e = err as NodeJS.ErrnoException & { status?: number };
          if (e.code === 'ENOTFOUND') throw new BerthError('UNAVAILABLE', `${call.method} ${url.origin}${url.pathname}: cannot resolve host ${JSON.stringify(url.hostname)}`, { cause: err });
          const code: ErrorCode = isRetryable(err) ? 'UNAVAILABLE' : e.name === 'AbortError' ? 'CANCELED' : 'INTERNAL';
          throw new BerthError(code, `${call.method} ${url.origin}${url.pathname}: ${e.message}${attempt ? ` (after ${attempt + 1} attempts)` : ''}`, { cause: err });
        }
        attempt++;
        await this.#wait(attempt, call.signal);
      }
    }
  }

  /** The Authorization header for a registry and scopes, fetching a token when needed. */
  async #authorization(domain: string, scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const ch = this.#challenges.get(domain);
    if (!ch) return undefined;
    const creds = this.#credentials(domain);
    if (ch.scheme === 'basic') {
      return creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
    }
    const wanted = this.#scopesFor(ch, scopes);
    const key = `${domain} ${wanted.join(' ')}`;
    let entry = this.#tokens.get(key);
    if (!entry || entry.expires <= Date.now()) {
      const fresh: { pending: Promise<{ token: string; life: number }>; token?: string; expires: number } = {
        pending: this.#fetchToken(domain, ch, wanted, creds, signal),
        expires: Number.MAX_SAFE_INTEGER,
      };
      this.#tokens.set(key, fresh);
      fresh.pending.then(
        ({ token, life }) => {
          fresh.token = token;
          // The token spec's default lifetime is 60 s; renew a little early.
          fresh.expires = Date.now() + life - Math.min(10_000, life / 4);
        },
        () => this.#tokens.get(key) === fresh && this.#tokens.delete(key),
      );
      entry = fresh;
    }
    return `Bearer ${(await entry.pending).token}`;
  }

  #scopesFor(ch: Challenge, scopes: string[]): string[] {
    const wanted = [...scopes].sort();
    if (wanted.length === 0 && ch.params.scope) wanted.push(ch.params.scope);
    return wanted;
  }

  /** Forget the token a refused call sent (and only that one: others may be fresher). */
  #dropToken(domain: string, scopes: string[], sent: string): void {
    const ch = this.#challenges.get(domain);
    if (!ch) return;
    const key = `${domain} ${this.#scopesFor(ch, scopes).join(' ')}`;
    const entry = this.#tokens.get(key);
    if (entry?.token !== undefined && `Bearer ${entry.token}` === sent) this.#tokens.delete(key);
  }

  /** One token request (distribution token spec): the token and its lifetime in ms. */
  async #fetchToken(domain: string, ch: Challenge, wanted: string[], creds: Credentials | undefined, signal?: AbortSignal): Promise<{ token: string; life: number }> {
    const realm = ch.params.realm;
    if (!realm) throw new BerthError('UNAUTHENTICATED', `authenticate to ${domain}: Bearer challenge without a realm`);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of wanted) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (creds) headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const what = `get token for ${domain} from ${url.origin}${url.pathname}`;
    let res: IncomingMessage | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await send({ method: 'GET', url, headers, signal });
        if ((res.statusCode ?? 0) >= 500 && attempt < this.#retries) {
          await discardBody(res);
          await this.#wait(attempt + 1, signal);
          continue;
        }
        break;
      } catch (err) {
        if (!isRetryable(err) || attempt >= this.#retries) throw BerthError.wrap(err, what, 'UNAVAILABLE');
        await this.#wait(attempt + 1, signal);
      }
    }
    if (res.statusCode !== 200) throw statusError(res.statusCode === 401 ? 401 : res.statusCode ?? 0, what, await errorText(res));
    const body = await readBody(res, 1 << 20, what);
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new BerthError('UNAUTHENTICATED', `${what}: the answer is not JSON`);
    }
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new BerthError('UNAUTHENTICATED', `${what}: the answer has no token`);
    return { token, life: (Number(parsed.expires_in) || 60) * 1000 };
  }
}

function scope(path: string, action: Action): string {
  return `repository:${path}:${action === 'push' ? 'pull,push' : 'pull'}`;
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

function isRetryable(err: unknown): boolean {
  if (err instanceof BerthError) return false;
  if ((err as { name?: string })?.name === 'AbortError') return false;
  return isTransient(err);
}

function statusError(status: number, what: string, text: string | undefined): BerthError {
  const code: ErrorCode = STATUS_CODES[status] ?? (status >= 500 ? 'UNAVAILABLE' : 'INTERNAL');
  const hint = status === 401 ? ' (run `berth login`?)' : '';
  return new BerthError(code, `${what}: registry answered ${status}${text ? `: ${text}` : ''}${hint}`);
}

/** The distribution-spec error body's first message, or a short text. */
async function errorText(res: IncomingMessage): Promise<string | undefined> {
  let body: Buffer;
  try {
    body = await readBody(res, 64 << 10, 'read error');
  } catch {
    return undefined;
  }
  if (body.length === 0) return undefined;
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const e = j.errors?.[0];
    if (e) return [e.code, e.message].filter(Boolean).join(': ');
  } catch {
    // not JSON
  }
  return body.toString('utf8').slice(0, 200).trim();
}

/**
 * The media type of a manifest: its own `mediaType` field first, then Content-Type, then its
 * shape (umoci leaves `mediaType` out, which the image-spec allows).
 */
export function manifestMediaType(data: Buffer, contentType: string, what: string): string {
  let j: { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown; schemaVersion?: unknown };
  try {
    j = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `${what}: manifest is not JSON: ${(err as Error).message}`);
  }
  if (!j || typeof j !== 'object') throw new BerthError('INVALID_ARGUMENT', `${what}: manifest is not a JSON object`);
  if (typeof j.mediaType === 'string' && j.mediaType) return j.mediaType;
  const ct = contentType.split(';')[0].trim();
  if ([MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList].includes(ct as never)) return ct;
  if (Array.isArray(j.manifests)) return MEDIA_TYPES.ociIndex;
  if (j.config && Array.isArray(j.layers)) return MEDIA_TYPES.ociManifest;
  if (j.schemaVersion === 1) throw new BerthError('NOT_IMPLEMENTED', `${what}: Docker schema 1 manifests are not supported`);
  throw new BerthError('INVALID_ARGUMENT', `${what}: not a manifest or index`);
}
