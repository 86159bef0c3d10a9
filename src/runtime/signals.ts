import { constants } from 'node:os';
import { BerthError } from '../errors/index.js';

/** A signal as runc accepts it: "KILL", "SIGKILL", "9". */
export function parseSignal(text: string | undefined, fallback = 'SIGTERM'): number {
  const s = (text ?? fallback).trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = (s.startsWith('SIG') ? s : `SIG${s}`) as keyof typeof constants.signals;
    const n = constants.signals[name];
    if (n !== undefined) return n;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(s) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(s);
    if (rt) return s.startsWith('SIGRTMIN') ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[1] ?? 0);
  }
  throw new BerthError('INVALID_ARGUMENT', `invalid signal ${JSON.stringify(text)}`);
}
