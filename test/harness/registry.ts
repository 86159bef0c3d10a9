/**
 * A private registry for tests: Debian's docker-registry (distribution 2.8) on a free
 * loopback port, filesystem storage in the scope, optional htpasswd basic auth.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Scope } from './scope.js';

export interface RegistryOptions {
  /** Basic auth with one user (htpasswd, bcrypt). */
  auth?: { username: string; password: string };
}

export interface Registry {
  /** `127.0.0.1:PORT`, the reference host part. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Storage dir (filesystem driver root). */
  storage: string;
  stop(): Promise<void>;
}

/** A TCP port free at the time of asking (the registry may still lose a race: start retries). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A bcrypt hash for htpasswd (distribution accepts only bcrypt). apache2-utils is not
 * installed; Debian's python3 crypt module uses libxcrypt, which has bcrypt ($2b$).
 */
export function bcryptHash(password: string): string {
  const code = 'import crypt,sys; print(crypt.crypt(sys.stdin.read(), crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<4)))';
  const out = execFileSync('/usr/bin/python3', ['-W', 'ignore', '-c', code], { input: password, encoding: 'utf8' }).trim();
  if (!out.startsWith('$2')) throw new Error(`bcryptHash: python3 crypt returned no bcrypt hash (${out.slice(0, 10)}...)`);
  return out;
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${stderr().slice(-1000)}`);
    try {
      const r = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      // 401 with auth on is an answer too.
      if (r.status === 200 || r.status === 401) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`docker-registry at ${url}: /v2/ not answering after ${timeoutMs} ms: ${stderr().slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a registry; the scope's cleanup stops it (its storage goes with the scope dir). */
export async function startRegistry(scope: Scope, opts: RegistryOptions = {}): Promise<Registry> {
  const dir = scope.mkdtemp('registry');
  const storage = join(dir, 'storage');
  mkdirSync(storage);
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const lines = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
    ];
    if (opts.auth) {
      const htpasswd = join(dir, 'htpasswd');
      writeFileSync(htpasswd, `${opts.auth.username}:${bcryptHash(opts.auth.password)}\n`);
      lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${htpasswd}`);
    }
    const config = join(dir, `config-${attempt}.yml`);
    writeFileSync(config, lines.join('\n') + '\n');
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    };
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, () => err, 10_000);
    } catch (e) {
      lastErr = e;
      await stop();
      continue;
    }
    scope.defer(`stop registry ${url}`, stop);
    return { host: `127.0.0.1:${port}`, url, storage, stop };
  }
  throw lastErr;
}
