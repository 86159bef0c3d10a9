import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import { refreshContainer, systemDf, systemPrune } from '../../engine/index.js';
import { listImages } from '../../image/index.js';
import { detectLayout } from '../../sys/cgroup/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';
import { humanSize } from './pull-progress.js';
import { table } from './top.js';

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

export const registerSystem: RegisterCommand = (program: Command, ctx) => {
  const system = program.command('system').description('manage berth');
  system
    .command('df')
    .description('show disk usage of images, containers, volumes and the build cache')
    .action(async () => {
      const rows = await systemDf(engineFor(ctx));
      const pct = (r: number, s: number) => (s ? ` (${Math.round((r / s) * 100)}%)` : '');
      ctx.out(
        table([
          ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
          ...rows.map((r) => [r.type, String(r.total), String(r.active), humanSize(r.size), `${humanSize(r.reclaimable)}${r.type === 'Images' || r.type === 'Local Volumes' ? pct(r.reclaimable, r.size) : ''}`]),
        ]),
      );
    });
  system
    .command('prune')
    .description('remove stopped containers, unused networks, dangling images (and with --volumes unused volumes) and what crashes left')
    .option('-a, --all', 'remove every unused image, not just dangling ones')
    .option('--volumes', 'prune anonymous volumes (all unused volumes with -a)')
    .option('-f, --force', 'do not prompt for confirmation (berth never prompts)')
    .action(async (o: { all?: boolean; volumes?: boolean }) => {
      const r = await systemPrune(engineFor(ctx), { all: !!o.all, volumes: !!o.volumes });
      const section = (title: string, items: string[]) => (items.length ? ctx.out(`${title}:\n${items.map((i) => `${i}\n`).join('')}\n`) : undefined);
      section('Deleted Containers', r.containers);
      section('Deleted Networks', r.networks);
      section('Deleted Volumes', r.volumes);
      section('Deleted Images', r.images);
      section('Removed leftovers', r.leftovers);
      ctx.out(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
    });
  system
    .command('info')
    .description('display system-wide information')
    .option('-f, --format <format>', '{{json .}} for JSON')
    .action(async (o: { format?: string }) => {
      const engine = engineFor(ctx);
      const cs = engine.containers.list().map((c) => refreshContainer(engine, c));
      const count = (s: string) => cs.filter((c) => c.state.status === s).length;
      const images = new Set((await listImages(engine.images)).map((i) => i.id));
      const info = {
        Containers: cs.length,
        ContainersRunning: count('running'),
        ContainersPaused: count('paused'),
        ContainersStopped: cs.length - count('running') - count('paused'),
        Images: images.size,
        Driver: engine.snapshotter.name,
        CgroupVersion: detectLayout() === 'v2' ? '2' : '1',
        DefaultRuntime: engine.runtime().name,
        KernelVersion: release(),
        OperatingSystem: osName(),
        OSType: 'linux',
        Architecture: arch() === 'x64' ? 'x86_64' : arch(),
        NCPU: cpus().length,
        MemTotal: totalmem(),
        BerthRootDir: engine.root,
        BerthStateDir: engine.state,
        Daemonless: true,
      };
      if (o.format === '{{json .}}') return ctx.out(`${JSON.stringify(info)}\n`);
      ctx.out(
        [
          `Containers: ${info.Containers}`,
          ` Running: ${info.ContainersRunning}`,
          ` Paused: ${info.ContainersPaused}`,
          ` Stopped: ${info.ContainersStopped}`,
          `Images: ${info.Images}`,
          `Storage Driver: ${info.Driver}`,
          `Cgroup Version: ${info.CgroupVersion}`,
          `Default Runtime: ${info.DefaultRuntime}`,
          `Kernel Version: ${info.KernelVersion}`,
          `Operating System: ${info.OperatingSystem}`,
          `OSType: ${info.OSType}`,
          `Architecture: ${info.Architecture}`,
          `CPUs: ${info.NCPU}`,
          `Total Memory: ${humanSize(info.MemTotal)}`,
          `Root Dir: ${info.BerthRootDir}`,
          `State Dir: ${info.BerthStateDir}`,
        ].join('\n') + '\n',
      );
    });
};
