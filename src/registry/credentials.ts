import { readFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BerthError } from '../errors/index.js';
import { writeFileAtomic } from '../util/fs.js';

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Registry credentials where docker keeps them: `auths[<registry>].auth` in
 * `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), base64 of `user:password`.
 * Other keys of the file are kept as they are.
 */
export class CredentialStore {
  readonly path: string;

  constructor(path?: string) {
    this.path = path ?? join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
  }

  #readFile(): Record<string, unknown> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return {};
    }
    try {
      const v = JSON.parse(text) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch (err) {
      throw new BerthError('INVALID_ARGUMENT', `read credentials ${JSON.stringify(this.path)}: ${(err as Error).message}`);
    }
  }

  get(registry: string): Credentials | undefined {
    const auths = this.#readFile().auths as Record<string, { auth?: string; username?: string; password?: string }> | undefined;
    if (!auths || typeof auths !== 'object') return undefined;
    const entry = auths[registry] ?? auths[`https://${registry}`] ?? auths[`http://${registry}`];
    if (!entry) return undefined;
    if (typeof entry.auth === 'string' && entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new BerthError('INVALID_ARGUMENT', `read credentials for ${registry}: auth is not base64 of user:password`);
      return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
    return undefined;
  }

  set(registry: string, creds: Credentials): void {
    const cfg = this.#readFile();
    const auths = (cfg.auths && typeof cfg.auths === 'object' ? cfg.auths : {}) as Record<string, unknown>;
    auths[registry] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
    cfg.auths = auths;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path, JSON.stringify(cfg, null, '\t') + '\n', 0o600);
  }

  /** Returns false when there was nothing to remove. */
  remove(registry: string): boolean {
    const cfg = this.#readFile();
    const auths = cfg.auths as Record<string, unknown> | undefined;
    if (!auths || !(registry in auths)) return false;
    delete auths[registry];
    writeFileAtomic(this.path, JSON.stringify(cfg, null, '\t') + '\n', 0o600);
    return true;
  }
}
