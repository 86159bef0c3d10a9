/**
 * Where the helper goes back to after it has started the container in its cgroups: our own
 * cgroup in each hierarchy of `cgroupProcsFiles` (from /proc/self/cgroup). A helper that stays
 * (foreground `run`, a waited `exec`) must not count in the container's pids limit or stats.
 */
import { readFileSync } from 'node:fs';

const ROOT = '/sys/fs/cgroup';

export function ownCgroupProcsFiles(containerFiles: readonly string[], pid: number | 'self' = 'self'): string[] {
  if (!containerFiles.length) return [];
  const own = new Map<string, string>(); // hierarchy dir name -> our path in it
  // pid: the runtime server's caller, which runs the helper itself (docs/runtime-server.md)
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    own.set(m[1] === '' ? '' : m[1].replace(/^name=/, ''), m[2]);
  }
  const out: string[] = [];
  for (const f of containerFiles) {
    if (!f.startsWith(`${ROOT}/`)) continue;
    const hier = f.slice(ROOT.length + 1).split('/')[0];
    if (own.has(hier) && hier !== '') out.push(join(ROOT, hier, own.get(hier)!));
    else if (hier === 'unified' && own.has('')) out.push(join(ROOT, 'unified', own.get('')!));
    else if (own.size === 1 && own.has('')) out.push(join(ROOT, own.get('')!)); // cgroup v2 only
  }
  return out;
}

function join(...parts: string[]): string {
  return `${parts.join('/').replace(/\/+/g, '/').replace(/\/$/, '')}/cgroup.procs`;
}
