/**
 * berth-runtime: the runc-compatible command line that podman/conmon, containerd's shim and
 * the OCI validation suite drive. Global flags first, then a command; one file per command.
 * Exit status 1 on any error, as runc (callers read the message from stderr or --log).
 */
import { appendFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { BerthError, formatError, toBerthError } from '../../errors/index.js';
import { newRuntimeContext } from '../../runtime/index.js';
import { bool, parseArgs, str } from './args.js';
import type { RuntimeCommand } from './command.js';
import { create } from './create.js';
import { run } from './run.js';
import { start } from './start.js';
import { state } from './state.js';
import { kill } from './kill.js';
import { del } from './delete.js';
import { exec } from './exec.js';
import { list } from './list.js';
import { ps } from './ps.js';
import { pause, resume } from './pause.js';
import { update } from './update.js';
import { spec } from './spec.js';
import { features } from './features.js';
import { events } from './events.js';

const VERSION = '0.1.0';
const COMMANDS: RuntimeCommand[] = [create, run, start, state, kill, del, exec, list, ps, pause, resume, update, spec, features, events];

const GLOBAL_FLAGS = [
  { name: 'root', value: true },
  { name: 'log', value: true },
  { name: 'log-format', value: true },
  { name: 'debug' },
  { name: 'systemd-cgroup' },
  { name: 'criu', value: true },
  { name: 'rootless', value: true },
  { name: 'help', alias: 'h' },
  { name: 'version', alias: 'v' },
];

function usage(): string {
  return `usage: berth-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [ARGS]\n\ncommands:\n${COMMANDS.map((c) => `  ${c.usage}`).join('\n')}\n`;
}

/**
 * Where a call's output goes and which directory its relative paths mean. The runtime server
 * (src/runtime/server) runs many calls at once in one process: it passes each caller's cwd
 * (never process.chdir) and collects the output for the caller.
 */
export interface RuntimeIo {
  out(text: string): void;
  err(text: string): void;
  cwd?: string;
}

/** Flags whose value is a path, resolved against the caller's cwd ("-" is stdin). */
const PATH_FLAGS = ['bundle', 'pid-file', 'console-socket', 'process'];

export async function main(argv: string[], io?: RuntimeIo): Promise<number> {
  const out = io ? io.out : (t: string) => void writeSync(1, t);
  const errOut = io ? io.err : (t: string) => void writeSync(2, t);
  const cwd = io?.cwd;
  const abs = (p: string | undefined) => (p !== undefined && cwd ? resolve(cwd, p) : p);
  let logFile: string | undefined;
  let logJson = false;
  try {
    // Global flags end at the first word that is not a flag: the command.
    const cmdAt = findCommand(argv);
    const g = parseArgs(argv.slice(0, cmdAt), GLOBAL_FLAGS, { what: 'berth-runtime' });
    logFile = abs(str(g, 'log'));
    logJson = str(g, 'log-format') === 'json';
    if (str(g, 'log-format') && !['json', 'text'].includes(str(g, 'log-format')!)) {
      throw new BerthError('INVALID_ARGUMENT', `invalid --log-format ${JSON.stringify(str(g, 'log-format'))}: use text or json`);
    }
    if (bool(g, 'version')) {
      out(`berth-runtime version ${VERSION}\nspec: 1.2.0\n`);
      return 0;
    }
    const name = argv[cmdAt];
    if (bool(g, 'help') || !name || name === 'help') {
      out(usage());
      return name || bool(g, 'help') ? 0 : 1;
    }
    if (bool(g, 'systemd-cgroup')) {
      throw new BerthError('NOT_IMPLEMENTED', '--systemd-cgroup is not supported: berth-runtime uses cgroupfs (no systemd on this host)');
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) {
      if (name === 'checkpoint' || name === 'restore') throw new BerthError('NOT_IMPLEMENTED', `${name} is not supported by berth-runtime`);
      throw new BerthError('INVALID_ARGUMENT', `unknown command ${JSON.stringify(name)}\n${usage()}`);
    }
    const a = parseArgs(argv.slice(cmdAt + 1), cmd.flags, { what: name, stopAtPositional: cmd.stopAtPositional });
    if (cwd) {
      for (const f of PATH_FLAGS) {
        const v = a.flags.get(f);
        if (v) a.flags.set(f, v.map((p) => (p === '-' ? p : resolve(cwd, p))));
      }
      if ((name === 'create' || name === 'run' || name === 'spec') && !a.flags.has('bundle')) a.flags.set('bundle', [cwd]);
    }
    const warn = (m: string) => log(logFile, logJson, 'warning', m, errOut);
    const rt = newRuntimeContext(abs(str(g, 'root')) ?? '/run/berth-runtime', warn);
    return await cmd.run({ rt, out }, a);
  } catch (err) {
    const e = toBerthError(err);
    log(logFile, logJson, 'error', formatError(e), errOut);
    return 1;
  }
}

/** Index of the command word: skip global flags and the values of those that take one. */
function findCommand(argv: string[]): number {
  const takesValue = new Set(GLOBAL_FLAGS.filter((f) => f.value).map((f) => f.name));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) return i;
    const key = a.replace(/^--?/, '');
    if (!key.includes('=') && takesValue.has(key)) i++;
  }
  return argv.length;
}

/** Errors go to stderr and, with --log, to the log file (JSON lines as containerd reads them). */
function log(file: string | undefined, json: boolean, level: 'error' | 'warning', msg: string, err: (t: string) => void): void {
  const text = json ? JSON.stringify({ level, msg, time: new Date().toISOString() }) : `${level}: ${msg}`;
  if (file) {
    try {
      appendFileSync(file, `${text}\n`);
    } catch {
      /* the log is best effort; stderr still gets it */
    }
  }
  err(`berth-runtime: ${level === 'error' ? '' : 'warning: '}${msg}\n`);
}
