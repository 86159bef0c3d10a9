import type { Command } from 'commander';
import { humanDuration, listContainers, portSummary, removeContainer, statusText, type ContainerRecord, type Engine } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';
import { alignColumns, parseTemplate } from './template.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function command(rec: ContainerRecord, trunc: boolean): string {
  const c = rec.config;
  const args = [...(c.entrypoint ?? []), ...(c.cmd ?? [])].join(' ');
  const s = trunc && args.length > 20 ? `${args.slice(0, 19)}…` : args;
  return `"${s}"`;
}

/** docker ps's PORTS: `127.0.0.1:8080->80/tcp, ...`. */
function ports(engine: Engine, rec: ContainerRecord): string {
  return portSummary(engine, rec).map((p) => (p.PublicPort ? `${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}

/** The object `--format` sees: docker's ps fields. */
export function psView(rec: ContainerRecord, trunc: boolean, portsText = ''): Record<string, unknown> {
  const now = Date.now();
  return {
    ID: trunc ? rec.id.slice(0, 12) : rec.id,
    Image: rec.image,
    Command: command(rec, trunc),
    CreatedAt: new Date(rec.created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    RunningFor: `${humanDuration(now - Date.parse(rec.created))} ago`,
    Ports: portsText,
    State: rec.state.status,
    Status: statusText(rec, now),
    Size: '',
    Names: rec.name,
    Labels: Object.entries(rec.labels).map(([k, v]) => `${k}=${v}`).join(','),
    LabelsMap: rec.labels,
    Mounts: (rec.config.mounts ?? []).map((m) => m.source ?? m.target).join(','),
    // docker ps names the networks: "default" is the bridge (none when BERTH_BRIDGE=none turned it off)
    Networks: rec.config.networkDisabled ? 'none' : [rec.config.networkMode === 'default' ? 'bridge' : rec.config.networkMode || 'none', ...(rec.config.extraNetworks ?? [])].join(','),
  };
}

export const registerPs: RegisterCommand = (program: Command, ctx) => {
  program
    .command('ps')
    .description('list containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only display container IDs')
    .option('-f, --filter <filter>', 'filter output based on conditions provided (repeatable)', collect, [])
    .option('--format <template>', 'Go-template-like format: {{.ID}} {{.Names}} {{.Status}} {{json .}}, table ...')
    .option('--no-trunc', "don't truncate output")
    .option('-n, --last <n>', 'show n last created containers (includes all states)')
    .option('-l, --latest', 'show the latest created container (includes all states)')
    .action(async (o: { all?: boolean; quiet?: boolean; filter: string[]; format?: string; trunc?: boolean; last?: string; latest?: boolean }) => {
      const engine = engineFor(ctx);
      const trunc = o.trunc !== false;
      let list = await listContainers(engine, {
        all: !!o.all || !!o.latest || o.last !== undefined,
        filters: o.filter,
        // `run -d --rm` containers that exited since: nobody else is left to remove them
        reapAutoRemove: async (rec) => {
          await removeContainer(engine, rec.id, { force: true, volumes: true });
        },
      });
      if (o.latest) list = list.slice(0, 1);
      else if (o.last !== undefined) list = list.slice(0, Number(o.last));
      if (o.quiet) {
        for (const r of list) ctx.out(`${trunc ? r.id.slice(0, 12) : r.id}\n`);
        return;
      }
      const format = o.format ?? 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
      if (format === 'json') {
        for (const r of list) ctx.out(JSON.stringify(psView(r, trunc, ports(engine, r))) + '\n');
        return;
      }
      const t = parseTemplate(format);
      const lines = list.map((r) => t.render(psView(r, trunc, ports(engine, r))));
      if (t.table) ctx.out(alignColumns([t.header(), ...lines]));
      else for (const l of lines) ctx.out(`${l}\n`);
    });
};
