// Composition root of berth-runtime (runc-compatible CLI).
import { main } from '../cli/runtime/index.js';

process.exitCode = await main(process.argv.slice(2));
