import type { Command } from 'commander';
import { eventMatches, parseEventFilters, parseEventTime, watchExits, type EngineEvent } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { engineFor } from './engine.js';
import { parseTemplate } from './template.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** docker's fixed-width RFC 3339 time with nanoseconds (jsonmessage.RFC3339NanoFixed), in UTC. */
function timeText(ms: number): string {
  const whole = Math.floor(ms);
  const nanos = String(Math.round((ms - whole) * 1e6)).padStart(6, '0').slice(0, 6);
  return new Date(whole).toISOString().replace(/\.(\d{3})Z$/, (_, m: string) => `.${m}${nanos}Z`);
}

/** The event as docker's events.Message, what --format templates see. */
function message(e: EngineEvent): Record<string, unknown> {
  return {
    ...(e.type === 'container' ? { Status: e.action, ID: e.id, From: e.attributes.image ?? '' } : {}),
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    Scope: 'local',
    Time: Math.floor(e.time / 1000),
    TimeNano: Math.round(e.time * 1e6),
  };
}

/** docker events' default line: time, type, action, id, then the attributes sorted by key. */
function line(e: EngineEvent): string {
  const attrs = Object.keys(e.attributes)
    .sort()
    .map((k) => `${k}=${e.attributes[k]}`)
    .join(', ');
  return `${timeText(e.time)} ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ''}\n`;
}

export const registerEvents: RegisterCommand = (program: Command, ctx) => {
  program
    .command('events')
    .description('get real time events from berth (every berth process of this state dir); follows until interrupted or --until')
    .option('--since <time>', 'show events since this time (unix seconds, RFC 3339, or a duration such as 10m)')
    .option('--until <time>', 'stream events until this time')
    .option('-f, --filter <filter>', 'filter: type, event, container, image, volume, network, label (repeatable)', collect, [])
    .option('--format <template>', "format the output: a Go template ('{{json .}}', '{{.Action}} {{.Actor.ID}}')")
    .action(async (o: { since?: string; until?: string; filter: string[]; format?: string }) => {
      const filters = parseEventFilters(o.filter);
      const now = Date.now();
      const since = o.since !== undefined ? parseEventTime(o.since, now) : undefined;
      const until = o.until !== undefined ? parseEventTime(o.until, now) : undefined;
      const tpl = o.format ? (o.format === 'json' ? parseTemplate('{{json .}}') : parseTemplate(o.format)) : undefined;
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // the exits of containers nobody waits for are recorded (die) while we follow
      watchExits(engineFor(ctx), ac.signal);
      try {
        await engineFor(ctx).events.follow(
          (e) => {
            if (!eventMatches(e, filters)) return;
            ctx.out(tpl ? `${tpl.render(message(e))}\n` : line(e));
          },
          { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), signal: ac.signal },
        );
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
};
