import { containerAttach, containerLogsRoute, containerResize } from './streams.js';
import {
  containerCreate,
  containerDelete,
  containerInspect,
  containerKill,
  containerList,
  containerPause,
  containerPrune,
  containerRename,
  containerRestart,
  containerStart,
  containerStop,
  containerUnpause,
  containerUpdate,
  containerWait,
} from './containers.js';
import { archiveGet, archiveHead, archivePut } from './archive.js';
import { commitRoute, containerChangesRoute, containerStats, containerTop } from './inspect-ops.js';
import { networkConnect, networkCreate, networkDelete, networkDisconnect, networkInspect, networkList, networkPrune } from './networks.js';
import { execCreate, execInspect, execResize, execStart } from './exec.js';
import type { Handler } from './http.js';
import { imageCreate, imageDelete, imageGet, imageHistory, imageInspect, imageList, imageLoad, imagePrune, imagePush, imageTag } from './images.js';
import { events, info, ping, systemDf, version } from './system.js';
import { volumeCreate, volumeDelete, volumeInspect, volumeList, volumePrune } from './volumes.js';

/**
 * Every route: method, path (":x" one segment, "*x" several, for image names), handler.
 * First match wins, so fixed paths come before patterns that would swallow them.
 */
export const ROUTES: [string, string, Handler][] = [
  ['GET', '/_ping', ping],
  ['GET', '/version', version],
  ['GET', '/info', info],
  ['GET', '/events', events],
  ['GET', '/system/df', systemDf],

  ['GET', '/containers/json', containerList],
  ['POST', '/containers/create', containerCreate],
  ['POST', '/containers/prune', containerPrune],
  ['GET', '/containers/:id/json', containerInspect],
  ['GET', '/containers/:id/logs', containerLogsRoute],
  ['POST', '/containers/:id/start', containerStart],
  ['POST', '/containers/:id/stop', containerStop],
  ['POST', '/containers/:id/restart', containerRestart],
  ['POST', '/containers/:id/kill', containerKill],
  ['POST', '/containers/:id/wait', containerWait],
  ['POST', '/containers/:id/attach', containerAttach],
  ['POST', '/containers/:id/resize', containerResize],
  ['POST', '/containers/:id/rename', containerRename],
  ['POST', '/containers/:id/pause', containerPause],
  ['POST', '/containers/:id/unpause', containerUnpause],
  ['POST', '/containers/:id/update', containerUpdate],
  ['DELETE', '/containers/:id', containerDelete],
  ['POST', '/containers/:id/exec', execCreate],
  ['GET', '/containers/:id/top', containerTop],
  ['GET', '/containers/:id/stats', containerStats],
  ['GET', '/containers/:id/changes', containerChangesRoute],
  ['POST', '/commit', commitRoute],
  ['HEAD', '/containers/:id/archive', archiveHead],
  ['GET', '/containers/:id/archive', archiveGet],
  ['PUT', '/containers/:id/archive', archivePut],
  ['POST', '/exec/:id/start', execStart],
  ['GET', '/exec/:id/json', execInspect],
  ['POST', '/exec/:id/resize', execResize],

  ['GET', '/images/json', imageList],
  ['POST', '/images/create', imageCreate],
  ['POST', '/images/load', imageLoad],
  ['POST', '/images/prune', imagePrune],
  ['GET', '/images/get', imageGet],
  ['GET', '/images/*name/json', imageInspect],
  ['GET', '/images/*name/history', imageHistory],
  ['GET', '/images/*name/get', imageGet],
  ['POST', '/images/*name/tag', imageTag],
  ['POST', '/images/*name/push', imagePush],
  ['DELETE', '/images/*name', imageDelete],

  ['GET', '/networks', networkList],
  ['POST', '/networks/create', networkCreate],
  ['POST', '/networks/prune', networkPrune],
  ['GET', '/networks/:id', networkInspect],
  ['DELETE', '/networks/:id', networkDelete],
  ['POST', '/networks/:id/connect', networkConnect],
  ['POST', '/networks/:id/disconnect', networkDisconnect],

  ['GET', '/volumes', volumeList],
  ['POST', '/volumes/create', volumeCreate],
  ['POST', '/volumes/prune', volumePrune],
  ['GET', '/volumes/:name', volumeInspect],
  ['DELETE', '/volumes/:name', volumeDelete],
];
