// Composition root of the berth CLI.
import { main } from '../cli/berth/index.js';

process.exitCode = await main(process.argv.slice(2));
