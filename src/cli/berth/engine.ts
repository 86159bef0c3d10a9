import { Engine, eventLog, refreshContainer } from '../../engine/index.js';
import { CniNetworkManager } from '../../network/index.js';
import type { CliContext } from './context.js';

let cached: Engine | undefined;
let cachedNet: CniNetworkManager | undefined;

/** The engine for this CLI run, built from --root/--state (BERTH_ROOT/BERTH_STATE). */
export function engineFor(ctx: CliContext): Engine {
  if (cached) return cached;
  const network = networkFor(ctx);
  const engine = new Engine({
    root: ctx.root,
    state: ctx.state,
    network,
    ...(process.argv[1] ? { selfCommand: [process.execPath, process.argv[1]] } : {}),
    warn: (m) => ctx.err(`WARNING: ${m}\n`),
  });
  // a container's network stays while it runs or may run again by itself (a restart policy)
  network.setLiveness((id) => {
    try {
      const s = refreshContainer(engine, engine.containers.find(id)).state.status;
      return s === 'running' || s === 'paused' || s === 'restarting';
    } catch {
      return false;
    }
  });
  return (cached = engine);
}

/** The CNI network manager of this CLI run (network commands, `port`). */
export function networkFor(ctx: CliContext): CniNetworkManager {
  const events = eventLog(ctx.state);
  return (cachedNet ??= new CniNetworkManager({ root: ctx.root, state: ctx.state, onEvent: (action, id, attrs) => events.append('network', action, id, attrs) }));
}
