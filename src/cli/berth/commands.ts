import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { registerImageInspect } from './image-inspect.js';
import { registerImagePrune } from './image-prune.js';
import { registerImages } from './images.js';
import { registerLoad } from './load.js';
import { registerLogin } from './login.js';
import { registerLogout } from './logout.js';
import { registerPull } from './pull.js';
import { registerPush } from './push.js';
import { registerRmi } from './rmi.js';
import { registerSave } from './save.js';
import { registerTag } from './tag.js';
// containers (issue 4)
import { registerRun } from './run.js';
import { registerCreate } from './create.js';
import { registerStart } from './start.js';
import { registerStop } from './stop.js';
import { registerKill } from './kill.js';
import { registerRestart } from './restart.js';
import { registerRm } from './rm.js';
import { registerPs } from './ps.js';
import { registerLogs } from './logs.js';
import { registerInspect } from './inspect.js';
import { registerWait } from './wait.js';
import { registerRename } from './rename.js';
import { registerPause } from './pause.js';
import { registerUpdate } from './update.js';
import { registerVolume } from './volume.js';
import { registerVersion } from './version.js';
import { registerContainerCleanup } from './container-cleanup.js';
import { registerDaemon } from './daemon.js';
import { registerExec } from './exec.js';
import { registerAttach } from './attach.js';
import { registerCp } from './cp.js';
import { registerTop } from './top.js';
import { registerStats } from './stats.js';
import { registerCommit } from './commit.js';
import { registerDiff } from './diff.js';
import { registerSystem } from './system.js';
import { registerEvents } from './events.js';
// networks (issue 5)
import { registerNetwork } from './network.js';
import { registerPort } from './port.js';

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
  registerPush,
  registerLogin,
  registerLogout,
  registerSave,
  registerLoad,
  // containers (issue 4)
  registerRun,
  registerCreate,
  registerStart,
  registerStop,
  registerKill,
  registerRestart,
  registerRm,
  registerPs,
  registerLogs,
  registerInspect,
  registerWait,
  registerRename,
  registerPause,
  registerUpdate,
  registerVolume,
  registerVersion,
  registerContainerCleanup,
  registerDaemon,
  registerExec,
  registerAttach,
  registerCp,
  registerTop,
  registerStats,
  registerCommit,
  registerDiff,
  registerSystem,
  registerEvents,
  // networks (issue 5)
  registerNetwork,
  registerPort,
];
