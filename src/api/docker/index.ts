/**
 * The Docker Engine API server (docs/docker-api.md): `berth daemon` serves it on a unix
 * socket as a thin adapter over the engine.
 */
export { DockerServer, type DockerServerOptions } from './server.js';
export { API_VERSION, MIN_API_VERSION } from './version.js';
export { HTTP_STATUS } from './errors.js';
