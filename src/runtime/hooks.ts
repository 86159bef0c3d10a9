import { spawn } from 'node:child_process';
import { BerthError } from '../errors/index.js';
import type { Hook, Hooks, State } from '../spec/runtime.js';

export type HookKind = keyof Hooks;

/** Where a hook runs: the runtime's namespaces, or entered into the container's (via nsenter). */
export interface HookPlace {
  /** Enter these namespaces of pid before running the hook (nsenter flags). */
  enter?: { pid: number; flags: string[] };
}

/** Run one hook with the state on stdin, bounded by its timeout. Rejects with a clear message. */
export function runHook(kind: HookKind, index: number, hook: Hook, state: State, place: HookPlace = {}): Promise<void> {
  const what = `${kind} hook #${index} (${hook.path})`;
  let file = hook.path;
  let argv = hook.args && hook.args.length ? hook.args.slice(1) : [];
  let argv0 = hook.args && hook.args.length ? hook.args[0] : hook.path;
  if (place.enter) {
    // nsenter execs the hook inside the container's namespaces; argv0 is lost there, which
    // the spec allows no way to observe from the hook but its own /proc/self/cmdline.
    argv = ['--target', String(place.enter.pid), ...place.enter.flags, '--', hook.path, ...argv];
    file = 'nsenter';
    argv0 = 'nsenter';
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      argv0,
      env: Object.fromEntries((hook.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout !== undefined) {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new BerthError('DEADLINE_EXCEEDED', `${what}: timed out after ${hook.timeout}s`));
      }, hook.timeout * 1000);
    }
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.stdin!.on('error', () => {}); // a hook need not read its stdin
    child.stdin!.end(JSON.stringify(state));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(BerthError.wrap(err, what, 'FAILED_PRECONDITION'));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal ? `killed by ${signal}` : `exit status ${code}`;
      const detail = stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
      reject(new BerthError('FAILED_PRECONDITION', `${what}: ${why}${detail}`));
    });
  });
}

/** Run every hook of a kind in order; the first failure stops the rest. */
export async function runHooks(hooks: Hooks | undefined, kind: HookKind, state: State, place: HookPlace = {}): Promise<void> {
  const list = hooks?.[kind] ?? [];
  for (let i = 0; i < list.length; i++) await runHook(kind, i, list[i], state, place);
}

/**
 * poststart and poststop failures must not stop the lifecycle (runtime-spec: "log a warning").
 * Returns the warnings.
 */
export async function runHooksWarnOnly(hooks: Hooks | undefined, kind: HookKind, state: State): Promise<string[]> {
  const warnings: string[] = [];
  const list = hooks?.[kind] ?? [];
  for (let i = 0; i < list.length; i++) {
    try {
      await runHook(kind, i, list[i], state);
    } catch (err) {
      warnings.push((err as Error).message);
    }
  }
  return warnings;
}
