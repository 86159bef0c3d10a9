/**
 * runtime-spec seccomp actions -> the 32-bit value a filter returns (linux/seccomp.h
 * SECCOMP_RET_*), and spec flags -> SECCOMP_FILTER_FLAG_* bits.
 */
import { BerthError } from '../../errors/index.js';

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export const EPERM = 1;
export const ENOSYS = 38;

export const SPEC_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;
export type SpecAction = (typeof SPEC_ACTIONS)[number];

/**
 * The filter return value for an action. `errnoRet` is the data of ERRNO and TRACE (EPERM when
 * absent, as runc does); any other action with an errnoRet is refused, as runc does.
 */
export function actionValue(action: string, errnoRet: number | undefined, where: string): number {
  const bad = (why: string) => new BerthError('INVALID_ARGUMENT', `compile seccomp profile: ${where}: ${why}`);
  const data = () => {
    const e = errnoRet ?? EPERM;
    if (!Number.isInteger(e) || e < 0 || e > SECCOMP_RET_DATA) throw bad(`errnoRet ${e} is not in 0..65535`);
    return e;
  };
  switch (action as SpecAction) {
    case 'SCMP_ACT_ERRNO':
      return (SECCOMP_RET_ERRNO | data()) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SECCOMP_RET_TRACE | data()) >>> 0;
    default:
  }
  if (errnoRet !== undefined) throw bad(`errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${action}`);
  switch (action as SpecAction) {
    // libseccomp's SCMP_ACT_KILL is SECCOMP_RET_KILL_THREAD.
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET_TRAP;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET_ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET_LOG;
    case 'SCMP_ACT_NOTIFY':
      return SECCOMP_RET_USER_NOTIF;
    default:
      throw bad(`unknown action ${JSON.stringify(action)} (one of ${SPEC_ACTIONS.join(', ')})`);
  }
}

// linux/seccomp.h
export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
export const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

/** The flags runtime-spec lets a config name (config-linux.md "Seccomp", `flags`). */
export const SPEC_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};
