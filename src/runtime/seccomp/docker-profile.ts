/**
 * Docker's seccomp profile format (`--security-opt seccomp=PROFILE.json`, moby's
 * profiles/seccomp): the runtime-spec fields plus `archMap` and, per syscall rule, `name`
 * (old form of `names`), `comment`, and `includes` / `excludes` filters on the container's
 * capabilities, the host architecture and the host kernel version. Resolving a profile for
 * one container gives a plain OCI `linux.seccomp`, as docker does before it hands the spec
 * to the runtime:
 *   - archMap: the entry for the host architecture gives it and its sub-architectures;
 *   - includes: every listed capability present, the host arch listed, kernel >= minKernel;
 *   - excludes: any listed capability present, the host arch listed, or kernel >= minKernel
 *     drops the rule.
 */
import { release } from 'node:os';
import { BerthError } from '../../errors/index.js';
import type { Seccomp, SeccompArg, SeccompSyscall } from '../../spec/runtime.js';
import { type HostArch, hostArch } from './arch.js';

export interface DockerFilter {
  caps?: string[];
  /** libseccomp/docker arch names: "amd64", "x86", "x32", "arm64", "arm", "s390x", ... */
  arches?: string[];
  /** "<kernel>.<major>", e.g. "4.8". */
  minKernel?: string;
}

export interface DockerSyscallRule {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
  comment?: string;
  includes?: DockerFilter;
  excludes?: DockerFilter;
}

export interface DockerProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSyscallRule[];
}

export interface ResolveOptions {
  /** The container's capabilities (docker checks the bounding set), e.g. "CAP_SYS_ADMIN". */
  capabilities: string[];
  /** Host architecture (default: this one). */
  arch?: HostArch | string;
  /** Host kernel version for minKernel (default: os.release()). */
  kernel?: string;
}

// Host arch -> docker's arch name (libseccomp's native name) and the SCMP_ARCH_* of archMap.
const DOCKER_ARCH: Record<HostArch, { name: string; scmp: string }> = {
  x86_64: { name: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  aarch64: { name: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
};

function hostOf(arch: string | undefined): HostArch {
  if (arch === undefined) return hostArch();
  if (arch === 'x86_64' || arch === 'amd64') return 'x86_64';
  if (arch === 'aarch64' || arch === 'arm64') return 'aarch64';
  throw new BerthError('INVALID_ARGUMENT', `seccomp profile: architecture ${JSON.stringify(arch)} is not supported (x86_64 and aarch64 are)`);
}

function parseKernel(v: string, where: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) throw new BerthError('INVALID_ARGUMENT', `seccomp profile: ${where}: invalid kernel version ${JSON.stringify(v)}, expected "<kernel>.<major>"`);
  return [Number(m[1]), Number(m[2])];
}

function kernelAtLeast(host: string, min: string, where: string): boolean {
  const [hk, hm] = parseKernel(host, 'host kernel');
  const [mk, mm] = parseKernel(min, where);
  return hk > mk || (hk === mk && hm >= mm);
}

/** Resolves a docker-format profile for one container into an OCI `linux.seccomp`. */
export function resolveDockerProfile(p: DockerProfile, opts: ResolveOptions): Seccomp {
  const host = DOCKER_ARCH[hostOf(opts.arch)];
  const kernel = opts.kernel ?? release();
  const caps = new Set(opts.capabilities);
  if (p.architectures?.length && p.archMap?.length) {
    throw new BerthError('INVALID_ARGUMENT', "seccomp profile: both 'architectures' and 'archMap' are given, use one");
  }
  const out: Seccomp = { defaultAction: p.defaultAction };
  if (p.defaultErrnoRet !== undefined) out.defaultErrnoRet = p.defaultErrnoRet;
  if (p.architectures?.length) out.architectures = [...p.architectures];
  const entry = p.archMap?.find((a) => a.architecture === host.scmp);
  if (entry) out.architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  if (p.flags?.length) out.flags = [...p.flags];
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;
  const syscalls: SeccompSyscall[] = [];
  (p.syscalls ?? []).forEach((r, i) => {
    const where = `syscalls[${i}]`;
    if (r.name && r.names?.length) {
      throw new BerthError('INVALID_ARGUMENT', `seccomp profile: ${where}: both 'name' and 'names' are given, use 'names'`);
    }
    const ex = r.excludes;
    if (ex) {
      if (ex.arches?.includes(host.name)) return;
      if (ex.caps?.some((c) => caps.has(c))) return;
      if (ex.minKernel && kernelAtLeast(kernel, ex.minKernel, `${where}.excludes.minKernel`)) return;
    }
    const inc = r.includes;
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(host.name)) return;
      if (inc.caps?.some((c) => !caps.has(c))) return;
      if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel, `${where}.includes.minKernel`)) return;
    }
    const s: SeccompSyscall = { names: r.name ? [r.name] : [...(r.names ?? [])], action: r.action };
    if (r.errnoRet !== undefined) s.errnoRet = r.errnoRet;
    if (r.args?.length) s.args = r.args.map((a) => ({ ...a }));
    syscalls.push(s);
  });
  if (syscalls.length) out.syscalls = syscalls;
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function checkFilter(v: unknown, where: string): void {
  if (v === undefined || v === null) return;
  if (!isObj(v)) throw invalid(where, 'must be an object');
  if (v.caps !== undefined && !isStrList(v.caps)) throw invalid(`${where}.caps`, 'must be a list of strings');
  if (v.arches !== undefined && !isStrList(v.arches)) throw invalid(`${where}.arches`, 'must be a list of strings');
  if (v.minKernel !== undefined && typeof v.minKernel !== 'string') throw invalid(`${where}.minKernel`, 'must be a string');
}

function invalid(where: string, why: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `seccomp profile: ${where}: ${why}`);
}

/**
 * Parses a docker-format profile (already JSON-decoded) and resolves it for a container.
 * A profile without defaultAction and without syscalls means "no seccomp" to docker: that
 * is returned as undefined.
 */
export function parseDockerProfile(json: unknown, opts: ResolveOptions): Seccomp | undefined {
  if (!isObj(json)) throw invalid('profile', 'must be a JSON object');
  const p = json;
  if ((p.defaultAction === undefined || p.defaultAction === '') && (!Array.isArray(p.syscalls) || p.syscalls.length === 0)) return undefined;
  if (typeof p.defaultAction !== 'string') throw invalid('defaultAction', 'must be a string');
  if (p.defaultErrnoRet !== undefined && typeof p.defaultErrnoRet !== 'number') throw invalid('defaultErrnoRet', 'must be a number');
  if (p.architectures !== undefined && p.architectures !== null && !isStrList(p.architectures)) throw invalid('architectures', 'must be a list of strings');
  if (p.flags !== undefined && p.flags !== null && !isStrList(p.flags)) throw invalid('flags', 'must be a list of strings');
  if (p.archMap !== undefined && p.archMap !== null) {
    if (!Array.isArray(p.archMap)) throw invalid('archMap', 'must be a list');
    p.archMap.forEach((a, i) => {
      if (!isObj(a) || typeof a.architecture !== 'string') throw invalid(`archMap[${i}].architecture`, 'must be a string');
      if (a.subArchitectures !== undefined && a.subArchitectures !== null && !isStrList(a.subArchitectures)) {
        throw invalid(`archMap[${i}].subArchitectures`, 'must be a list of strings');
      }
    });
  }
  if (p.syscalls !== undefined && p.syscalls !== null) {
    if (!Array.isArray(p.syscalls)) throw invalid('syscalls', 'must be a list');
    p.syscalls.forEach((r, i) => {
      const where = `syscalls[${i}]`;
      if (!isObj(r)) throw invalid(where, 'must be an object');
      if (r.names !== undefined && r.names !== null && !isStrList(r.names)) throw invalid(`${where}.names`, 'must be a list of strings');
      if (r.name !== undefined && typeof r.name !== 'string') throw invalid(`${where}.name`, 'must be a string');
      if (typeof r.action !== 'string') throw invalid(`${where}.action`, 'must be a string');
      if (r.errnoRet !== undefined && r.errnoRet !== null && typeof r.errnoRet !== 'number') throw invalid(`${where}.errnoRet`, 'must be a number');
      if (r.args !== undefined && r.args !== null) {
        if (!Array.isArray(r.args)) throw invalid(`${where}.args`, 'must be a list');
        r.args.forEach((a, j) => {
          if (!isObj(a) || typeof a.index !== 'number' || typeof a.op !== 'string') {
            throw invalid(`${where}.args[${j}]`, 'needs a numeric index and an op');
          }
        });
      }
      checkFilter(r.includes, `${where}.includes`);
      checkFilter(r.excludes, `${where}.excludes`);
    });
  }
  // Nulls (Go's encoding of empty lists) become absent.
  const clean = JSON.parse(JSON.stringify(p, (_k, v) => (v === null ? undefined : v))) as DockerProfile;
  return resolveDockerProfile(clean, opts);
}
