import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The native addon `native/cgroup-bpf.c`: the bpf(2) calls for cgroup v2 device programs. */
export interface CgroupBpf {
  /** Load `insns`, attach it to the cgroup directory, detach the programs it replaces. */
  attachDeviceProgram(cgroupDir: string, insns: Buffer): void;
  /** How many device programs are attached to the cgroup directory. */
  attachedDevicePrograms(cgroupDir: string): number;
}

let loaded: CgroupBpf | null | undefined;

/** The addon, beside the built tree or at $BERTH_NATIVE_DIR; null when it was not built. */
export function cgroupBpf(): CgroupBpf | null {
  if (loaded !== undefined) return loaded;
  const name = 'berth-cgbpf.node';
  const candidates: string[] = [];
  if (process.env.BERTH_NATIVE_DIR) candidates.push(join(process.env.BERTH_NATIVE_DIR, name));
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    candidates.push(join(dir, 'native', 'build', name));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((p) => existsSync(p));
  loaded = found ? (createRequire(import.meta.url)(found) as CgroupBpf) : null;
  return loaded;
}
