/**
 * The Engine API versions served. The docker 28 CLI negotiates down to the server's
 * `API-Version` header; 1.43 is docker 24's, with every field berth fills.
 */
export const API_VERSION = '1.43';
export const MIN_API_VERSION = '1.24';
