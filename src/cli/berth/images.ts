import type { Command } from 'commander';
import { listImages } from '../../image/index.js';
import type { RegisterCommand } from './commands.js';
import { imageDeps } from './image-deps.js';
import { imageGroup } from './image-group.js';
import type { CliContext } from './context.js';
import { humanSize } from './pull-progress.js';

async function run(ctx: CliContext, o: { digests?: boolean; format?: string; quiet?: boolean; noTrunc?: boolean }): Promise<void> {
  const list = await listImages(imageDeps(ctx));
  if (o.format === 'json') {
    for (const i of list) {
      ctx.out(JSON.stringify({ Repository: i.repository, Tag: i.tag, Digest: i.digest, ID: i.id, CreatedAt: i.created ?? '', Size: i.size, Name: i.name }) + '\n');
    }
    return;
  }
  const id = (s: string) => (o.noTrunc ? s : s.replace(/^sha256:/, '').slice(0, 12));
  if (o.quiet) {
    for (const x of [...new Set(list.map((i) => id(i.id)))]) ctx.out(`${x}\n`);
    return;
  }
  const head = ['REPOSITORY', 'TAG', ...(o.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
  const rows = list.map((i) => [i.repository, i.tag, ...(o.digests ? [i.digest] : []), id(i.id), ago(i.created), humanSize(i.size)]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  for (const r of [head, ...rows]) ctx.out(r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c] + 3))).join('') + '\n');
}

export const registerImages: RegisterCommand = (program: Command, ctx) => {
  const add = (cmd: Command) =>
    cmd
      .description('list images')
      .option('--digests', 'show digests')
      .option('--format <format>', '"json": one JSON object per line')
      .option('-q, --quiet', 'only image ids')
      .option('--no-trunc', 'full image ids')
      .action((o: { digests?: boolean; format?: string; quiet?: boolean; trunc?: boolean }) => run(ctx, { ...o, noTrunc: o.trunc === false }));
  add(program.command('images'));
  add(imageGroup(program).command('ls'));
};

/** "3 days ago", as docker prints creation times. */
function ago(created: string | undefined): string {
  const t = created ? Date.parse(created) : NaN;
  if (Number.isNaN(t)) return 'N/A';
  const s = Math.max(0, (Date.now() - t) / 1000);
  const units: [number, string][] = [[365 * 86400, 'year'], [30 * 86400, 'month'], [7 * 86400, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [n, u] of units) if (s >= n) return `${Math.floor(s / n)} ${u}${Math.floor(s / n) > 1 ? 's' : ''} ago`;
  return 'Less than a minute ago';
}
