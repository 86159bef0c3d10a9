// Peers want an absolute path for the runtime (podman --runtime, ctr --runc-binary).
import { isAbsolute, resolve } from 'node:path';
import { exec } from '../../harness/index.js';

/** `runc` -> `/usr/sbin/runc`; a relative path -> absolute. */
export async function absoluteBinary(bin: string): Promise<string> {
  if (isAbsolute(bin)) return bin;
  if (bin.includes('/')) return resolve(bin);
  const r = await exec('sh', ['-c', `command -v ${bin}`]);
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`runtime "${bin}" is not on PATH`);
  return r.stdout.trim();
}
