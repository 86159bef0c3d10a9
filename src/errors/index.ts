/**
 * One error type for all of berth, with a code from a closed set (modelled on containerd's
 * errdefs). Edges (CLI exit status, HTTP status, gRPC status) map codes in one table each,
 * typed `Record<ErrorCode, ...>` so that a missing entry fails to compile.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'CONFLICT',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'NOT_IMPLEMENTED',
  'CANCELED',
  'DEADLINE_EXCEEDED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface BerthErrorOptions {
  cause?: unknown;
  /** errno name from the kernel or the native helper, e.g. "EPERM". */
  errno?: string;
}

export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly errno: string | undefined;
  /** Errors raised while cleaning up after this one; reported with it, never instead of it. */
  readonly cleanupErrors: unknown[] = [];

  constructor(code: ErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BerthError';
    this.code = code;
    this.errno = options.errno;
  }

  /** Prefix the message with the action that failed: `wrap("create container \"x\"")`. */
  static wrap(err: unknown, action: string, code?: ErrorCode): BerthError {
    const inner = toBerthError(err);
    const e = new BerthError(code ?? inner.code, `${action}: ${inner.message}`, { cause: inner, errno: inner.errno });
    e.cleanupErrors.push(...inner.cleanupErrors);
    return e;
  }
}

export function isBerthError(err: unknown, code?: ErrorCode): err is BerthError {
  return err instanceof BerthError && (code === undefined || err.code === code);
}

const ERRNO_CODES: Record<string, ErrorCode> = {
  ENOENT: 'NOT_FOUND',
  EEXIST: 'ALREADY_EXISTS',
  EACCES: 'PERMISSION_DENIED',
  EPERM: 'PERMISSION_DENIED',
  EINVAL: 'INVALID_ARGUMENT',
  EBUSY: 'FAILED_PRECONDITION',
  ENOTEMPTY: 'FAILED_PRECONDITION',
  ENOSPC: 'RESOURCE_EXHAUSTED',
  ENOMEM: 'RESOURCE_EXHAUSTED',
  EMFILE: 'RESOURCE_EXHAUSTED',
  EAGAIN: 'UNAVAILABLE',
  ECONNREFUSED: 'UNAVAILABLE',
  ECONNRESET: 'UNAVAILABLE',
  ETIMEDOUT: 'DEADLINE_EXCEEDED',
  ENOSYS: 'NOT_IMPLEMENTED',
  EOPNOTSUPP: 'NOT_IMPLEMENTED',
  ENOTSUP: 'NOT_IMPLEMENTED',
};

/** Error code for an errno name ("ENOENT" -> NOT_FOUND). */
export function codeForErrno(errno: string | undefined): ErrorCode {
  return (errno && ERRNO_CODES[errno]) || 'INTERNAL';
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EINVAL: 'invalid argument',
  EBUSY: 'device or resource busy',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOTEMPTY: 'directory not empty',
  ENOSPC: 'no space left on device',
  ESRCH: 'no such process',
  ELOOP: 'too many levels of symbolic links',
};

/** Turn anything thrown (Node system errors included) into a BerthError, keeping it as cause. */
export function toBerthError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  if (err instanceof Error) {
    const sys = err as NodeJS.ErrnoException;
    if (typeof sys.code === 'string' && /^E[A-Z]+$/.test(sys.code)) {
      const what = sys.path ? ` ${JSON.stringify(sys.path)}` : '';
      const text = ERRNO_TEXT[sys.code] ?? sys.code.toLowerCase();
      return new BerthError(codeForErrno(sys.code), `${sys.syscall ?? 'system call'}${what}: ${text}`, {
        cause: err,
        errno: sys.code,
      });
    }
    return new BerthError('INTERNAL', err.message, { cause: err });
  }
  return new BerthError('INTERNAL', String(err));
}

/** Attach a cleanup failure to the original error without hiding it. */
export function withCleanupError(original: unknown, cleanupErr: unknown): BerthError {
  const e = toBerthError(original);
  e.cleanupErrors.push(cleanupErr);
  return e;
}

/** Exit status of a CLI command for each code. Docker's 125 is "the engine failed". */
export const EXIT_CODES: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 125,
  NOT_FOUND: 125,
  ALREADY_EXISTS: 125,
  FAILED_PRECONDITION: 125,
  CONFLICT: 125,
  PERMISSION_DENIED: 125,
  UNAUTHENTICATED: 125,
  RESOURCE_EXHAUSTED: 125,
  UNAVAILABLE: 125,
  NOT_IMPLEMENTED: 125,
  CANCELED: 130,
  DEADLINE_EXCEEDED: 125,
  INTERNAL: 125,
};

/** One line for a person: the message plus any cleanup failures. Never a stack trace. */
export function formatError(err: unknown): string {
  const e = toBerthError(err);
  let out = e.message;
  for (const c of e.cleanupErrors) out += `\n  (while cleaning up: ${toBerthError(c).message})`;
  if (e.code === 'INTERNAL' && process.env.BERTH_DEBUG && e.cause instanceof Error && e.cause.stack) {
    out += `\n${e.cause.stack}`;
  }
  return out;
}
