import { killContainer, type Engine } from '../../engine/index.js';

/** Forward a signal berth received to the container (docker run's sig-proxy). */
export async function signalContainerByName(engine: Engine, id: string, signal: NodeJS.Signals): Promise<void> {
  await killContainer(engine, id, signal);
}
