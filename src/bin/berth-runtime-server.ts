// Composition root of the runtime server (docs/runtime-server.md). Started by the front end
// (native/berth-runtime.c) as `berth-runtime-server --socket PATH --build-id ID [--lock-fd N]`.
import { appendFileSync } from 'node:fs';
import { main } from '../cli/runtime/index.js';
import { serveRuntime } from '../runtime/server/index.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const socketPath = flag('socket');
const buildId = flag('build-id');
if (!socketPath || !buildId || process.getuid?.() !== 0) {
  process.stderr.write('usage (as root): berth-runtime-server --socket PATH --build-id ID [--lock-fd N] [--idle-ms MS]\n');
  process.exit(2);
}
const logFile = process.env.BERTH_RUNTIME_SERVER_LOG;
await serveRuntime({
  socketPath,
  buildId,
  lockFd: flag('lock-fd') === undefined ? undefined : Number(flag('lock-fd')),
  idleMs: flag('idle-ms') === undefined ? undefined : Number(flag('idle-ms')),
  handle: (argv, io) => main(argv, io),
  log: logFile ? (m) => appendFileSync(logFile, `${new Date().toISOString()} ${process.pid} ${m}\n`) : undefined,
});
process.exit(0);
