import { execFile } from 'node:child_process';
import { BerthError } from '../../errors/index.js';
import type { Engine } from '../engine.js';
import { containerCgroup } from './cgroup.js';
import { refreshContainer } from './status.js';

/**
 * docker top: ps(1) on the host (default `-ef`, or the caller's options), keeping the rows of
 * the processes in the container's cgroup. Rows are split on whitespace; the last column keeps
 * its spaces (the command line).
 */
export async function topContainer(engine: Engine, ref: string, psArgs: string[] = ['-ef']): Promise<{ titles: string[]; processes: string[][] }> {
  const rec = refreshContainer(engine, engine.containers.find(ref));
  const what = `top of container ${JSON.stringify(rec.name)}`;
  if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw new BerthError('CONFLICT', `${what}: container ${rec.id} is not running`);
  const pids = new Set(containerCgroup(engine, rec).pids());
  const out = await new Promise<string>((resolve, reject) =>
    execFile('ps', psArgs, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err ? reject(new BerthError('INVALID_ARGUMENT', `${what}: ps ${psArgs.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout))),
  );
  const lines = out.split('\n').filter((l) => l.trim());
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new BerthError('INVALID_ARGUMENT', `${what}: ps ${psArgs.join(' ')} prints no PID column`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/);
    const row = [...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')];
    if (pids.has(Number(row[pidCol]))) processes.push(row);
  }
  return { titles, processes };
}
