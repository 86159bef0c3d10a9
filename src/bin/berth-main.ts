// Composition root of the berth CLI, bundled as CommonJS (dist/bin/berth-main.cjs) and
// loaded by `berth.ts` with V8's code cache; no top-level await, so it can be CommonJS.
import { main } from '../cli/berth/index.js';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
