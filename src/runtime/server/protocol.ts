/**
 * The runtime server's wire format (docs/runtime-server.md): lines, arguments percent-encoded
 * like the launch plan (bytes outside [A-Za-z0-9._/:,=@+-] as %XX, the empty string as "~"),
 * so that the C front end and berth-init parse them without a JSON parser.
 */
import { BerthError } from '../../errors/index.js';
import { decodeArg } from '../plan.js';

export const REQUEST_HEAD = 'BERTH-RUNTIME 1';

/** One call of the runc-style command, as the front end sends it. */
export interface RuntimeRequest {
  buildId: string;
  cwd: string;
  umask: number;
  argv: string[];
}

const SAFE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/:,=@+-') SAFE[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

/** Percent-encode bytes (output may be binary: the decoders keep NULs). */
export function encodeBytes(b: Uint8Array): string {
  if (b.length === 0) return '~';
  let out = '';
  for (const c of b) out += SAFE[c] ? String.fromCharCode(c) : `%${HEX[c >> 4]}${HEX[c & 15]}`;
  return out;
}

/** Parse the request lines (without END). Throws INVALID_ARGUMENT on anything else. */
export function parseRequest(lines: readonly string[]): RuntimeRequest {
  const req: RuntimeRequest = { buildId: '', cwd: '/', umask: 0o022, argv: [] };
  const head = lines[0] ?? '';
  if (!head.startsWith(`${REQUEST_HEAD} `)) throw new BerthError('INVALID_ARGUMENT', `runtime server: bad request head ${JSON.stringify(head)}`);
  req.buildId = decodeArg(head.slice(REQUEST_HEAD.length + 1));
  for (const line of lines.slice(1)) {
    const sp = line.indexOf(' ');
    const op = sp < 0 ? line : line.slice(0, sp);
    const arg = sp < 0 ? '' : decodeArg(line.slice(sp + 1));
    if (op === 'CWD') req.cwd = arg;
    else if (op === 'UMASK') req.umask = parseInt(arg, 8);
    else if (op === 'ARG') req.argv.push(arg);
    else throw new BerthError('INVALID_ARGUMENT', `runtime server: unknown request line ${JSON.stringify(op)}`);
  }
  if (!req.cwd.startsWith('/')) throw new BerthError('INVALID_ARGUMENT', `runtime server: cwd ${JSON.stringify(req.cwd)} is not absolute`);
  return req;
}
