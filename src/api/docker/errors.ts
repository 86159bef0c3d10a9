import type { ErrorCode } from '../../errors/index.js';

/**
 * HTTP status for each BerthError code, as dockerd maps its errdefs classes
 * (moby api/server/httpstatus): typed exhaustive so a new code fails to compile here.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  CONFLICT: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  RESOURCE_EXHAUSTED: 500,
  UNAVAILABLE: 503,
  NOT_IMPLEMENTED: 501,
  CANCELED: 499,
  DEADLINE_EXCEEDED: 504,
  INTERNAL: 500,
};
