import { randomInt } from 'node:crypto';

const LEFT = [
  'agile', 'amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'cosmic', 'crisp', 'daring', 'eager', 'fair',
  'fancy', 'fond', 'gentle', 'happy', 'hardy', 'jolly', 'keen', 'kind', 'lively', 'lucid', 'merry', 'modest',
  'nimble', 'noble', 'proud', 'quick', 'quiet', 'rapid', 'serene', 'sharp', 'shy', 'steady', 'swift', 'tidy',
  'vivid', 'warm', 'wise', 'witty', 'zesty',
];
const RIGHT = [
  'anchor', 'barge', 'beacon', 'buoy', 'cabin', 'canal', 'cargo', 'clipper', 'compass', 'coral', 'dinghy',
  'dock', 'ferry', 'galley', 'gull', 'harbor', 'helm', 'hull', 'island', 'jetty', 'keel', 'kelp', 'lagoon',
  'lantern', 'mast', 'marina', 'oar', 'pier', 'pilot', 'quay', 'reef', 'rudder', 'sail', 'schooner', 'shoal',
  'skiff', 'tide', 'tugboat', 'wharf', 'yacht',
];

/** A random docker-style name ("brave_harbor"); the store retries on a clash. */
export function randomName(): string {
  return `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
}

/** Docker's container name rule. */
export const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
