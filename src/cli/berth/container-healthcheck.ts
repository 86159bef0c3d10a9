import type { Command } from 'commander';
import { healthLoop } from '../../engine/index.js';
import type { RegisterCommand } from './commands.js';
import { containerGroup } from './container-cleanup.js';
import { engineFor } from './engine.js';

/** `berth container healthcheck ID`: the per-container health helper `start` runs (not for people). */
export const registerContainerHealthcheck: RegisterCommand = (program: Command, ctx) => {
  containerGroup(program)
    .command('healthcheck', { hidden: true })
    .description("run a container's health check every interval while it runs")
    .argument('<container>', 'id')
    .action((ref: string) => healthLoop(engineFor(ctx), ref));
};
