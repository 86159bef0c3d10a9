/** What every suite gets: the options, a logger, and shared lazily-started peers. */
import type { Case } from './result.js';

export interface Options {
  quick: boolean;
  /** Sequential iterations per implementation (runtime suite). */
  iterations: number;
  /** Containers started at once in the concurrent cases. */
  concurrency: number;
  /** Rounds of the concurrent cases, and iterations of the pull and engine cases. */
  rounds: number;
  pullIterations: number;
  engineIterations: number;
  /** Run runc and berth-runtime inside crun's unshare wrapper too. */
  wrapAll: boolean;
  /** The berth checkout whose bin/berth and bin/berth-runtime are measured. */
  repo: string;
  /** Where built images are cached between runs. */
  cache: string;
}

export interface Context {
  opts: Options;
  log(msg: string): void;
  /** Shared state between suites (the registry, built images), created on first use. */
  shared<T>(key: string, make: () => Promise<T>): Promise<T>;
}

export interface Suite {
  name: string;
  describe: string;
  run(ctx: Context): Promise<Case[]>;
}
