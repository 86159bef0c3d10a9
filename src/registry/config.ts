import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';

/**
 * Which registries speak plain http: loopback ones always (as docker does), and those listed
 * in `<root>/config.json` `insecure-registries` or the comma-separated env
 * BERTH_INSECURE_REGISTRIES (host or host:port).
 */
export function insecureRegistries(root?: string): string[] {
  const out: string[] = [];
  const env = process.env.BERTH_INSECURE_REGISTRIES;
  if (env) out.push(...env.split(',').map((s) => s.trim()).filter(Boolean));
  if (root) {
    let text: string | undefined;
    try {
      text = readFileSync(join(root, 'config.json'), 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      try {
        const cfg = JSON.parse(text) as { 'insecure-registries'?: unknown };
        const list = cfg['insecure-registries'];
        if (Array.isArray(list)) out.push(...list.filter((x): x is string => typeof x === 'string'));
      } catch (err) {
        throw new BerthError('INVALID_ARGUMENT', `read ${JSON.stringify(join(root, 'config.json'))}: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

/**
 * `registry-mirrors` of `<root>/config.json`, as docker's daemon.json has them: base URLs
 * (`http://127.0.0.1:5000`) tried instead of the default registry.
 */
export function registryMirrors(root?: string): string[] {
  if (!root) return [];
  let text: string;
  try {
    text = readFileSync(join(root, 'config.json'), 'utf8');
  } catch {
    return [];
  }
  try {
    const list = (JSON.parse(text) as { 'registry-mirrors'?: unknown })['registry-mirrors'];
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
  } catch (err) {
    throw new BerthError('INVALID_ARGUMENT', `read ${JSON.stringify(join(root, 'config.json'))}: ${(err as Error).message}`);
  }
}

export function isLoopbackHost(domain: string): boolean {
  const host = hostOf(domain);
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `host:port` -> host, `[::1]:5000` -> ::1. */
export function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const i = domain.lastIndexOf(':');
  return i >= 0 ? domain.slice(0, i) : domain;
}

export function schemeFor(domain: string, insecure: string[]): 'http' | 'https' {
  if (isLoopbackHost(domain)) return 'http';
  const host = hostOf(domain);
  return insecure.some((x) => x === domain || x === host) ? 'http' : 'https';
}
