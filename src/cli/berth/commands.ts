import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerImageInspect } from './image-inspect.js';
import { registerImagePrune } from './image-prune.js';
import { registerImages } from './images.js';
import { registerPull } from './pull.js';
import { registerRmi } from './rmi.js';
import { registerTag } from './tag.js';

/**
 * Every berth command, as a function that adds itself to the program. A command sets a
 * non-zero exit status (e.g. the container's) through `setExit`; errors are thrown.
 */
export type RegisterCommand = (program: Command, ctx: CliContext, setExit: (code: number) => void) => void;

export const COMMANDS: RegisterCommand[] = [
  // images (issue 3)
  registerPull,
  registerImages,
  registerImageInspect,
  registerTag,
  registerRmi,
  registerImagePrune,
];
