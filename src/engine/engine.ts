import { join } from 'node:path';
import type { ImageDeps } from '../image/index.js';
import { openImageDeps, openSnapshotUnpacker, type SnapshotUnpacker } from '../image/index.js';
import type { Snapshotter } from '../snapshot/index.js';
import { openDatabase, type Db } from '../util/sqlite.js';
import { ContainerStore } from './containers/store.js';
import { bridgeDisabled } from './root-config.js';
import { configuredPoolStart, UsernsRanges } from './userns.js';
import { containerPaths } from './container/paths.js';
import type { NetworkManager } from './network.js';
import { runtimeDriver, type RuntimeDriver } from './runtime-driver.js';
import { VolumeStore } from './volumes/store.js';
import { containerEvent, eventLog, type EventLog } from './events/index.js';
import type { ContainerRecord } from './containers/store.js';

export interface EngineOptions {
  /** Persistent state: images, snapshots, metadata, logs, volumes. */
  root: string;
  /** Per-boot state: bundles, mounted rootfs, monitors' sockets, runtime state. */
  state: string;
  /** The default runtime (`--runtime` per container overrides): berth, runc, crun or a path. */
  defaultRuntime?: string;
  /** CNI networking; absent: only none, host and container:<x>. */
  network?: NetworkManager;
  /** Parent cgroup of containers (default "/berth", or $BERTH_CGROUP_PARENT). */
  cgroupParent?: string;
  /**
   * How to run the berth CLI (argv prefix): a detached `--rm` container's monitor runs
   * `<this> --root R --state S container cleanup --rm ID` when it exits. Without it such a
   * container is removed by the next `berth ps`.
   */
  selfCommand?: string[];
  /** Print a warning (pull progress, cleanup notes). */
  warn?: (message: string) => void;
}

/**
 * The engine: one object per process over a root and a state dir, holding the stores and the
 * drivers; each container operation is a function in `container/` that takes it. No
 * transport here: the CLI, the Docker API and the CRI are adapters over the same calls.
 */
export class Engine {
  readonly root: string;
  readonly state: string;
  readonly network: NetworkManager | undefined;
  readonly cgroupParent: string;
  readonly warn: (message: string) => void;
  readonly selfCommand: string[] | undefined;
  readonly #defaultRuntime: string | undefined;
  #db: Db | undefined;
  #containers: ContainerStore | undefined;
  #volumes: VolumeStore | undefined;
  #usernsRanges: UsernsRanges | undefined;
  #images: ImageDeps | undefined;
  #unpacker: SnapshotUnpacker | undefined;
  #runtimes = new Map<string, RuntimeDriver>();
  #bridgeDisabled: boolean | undefined;

  constructor(opts: EngineOptions) {
    this.root = opts.root;
    this.state = opts.state;
    this.network = opts.network;
    this.cgroupParent = opts.cgroupParent ?? process.env.BERTH_CGROUP_PARENT ?? '/berth';
    this.warn = opts.warn ?? (() => {});
    this.selfCommand = opts.selfCommand;
    this.#defaultRuntime = opts.defaultRuntime;
  }

  get db(): Db {
    return (this.#db ??= openDatabase(join(this.root, 'metadata.db')));
  }

  /** The event log every berth process of this state dir shares (docker events). */
  get events(): EventLog {
    return eventLog(this.state, (err) => this.warn(`record event: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** Record a container event (labels, image and name as attributes). */
  containerEvent(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    containerEvent(this.events, rec, action, extra);
  }

  get containers(): ContainerStore {
    return (this.#containers ??= new ContainerStore(this.db));
  }

  /**
   * No default bridge (`BERTH_BRIDGE=none` or `<root>/config.json` `"bridge": "none"`, as
   * dockerd's `--bridge=none`): a container asking for the default network gets only lo.
   * Read on first use, so a bad value fails only the commands that create containers.
   */
  get bridgeDisabled(): boolean {
    return (this.#bridgeDisabled ??= bridgeDisabled(this.root));
  }

  /** The --userns=auto ranges in use. */
  get usernsRanges(): UsernsRanges {
    return (this.#usernsRanges ??= new UsernsRanges(this.db, configuredPoolStart(this.root)));
  }

  get volumes(): VolumeStore {
    return (this.#volumes ??= new VolumeStore(this.db, this.root, (action, name, attrs) => this.events.append('volume', action, name, { driver: 'local', ...attrs })));
  }

  /** Image deps (registry client, content, image store) with the snapshot unpacker: opened on first use. */
  get images(): ImageDeps {
    return (this.#images ??= openImageDeps(this.root, { unpacker: this.unpacker, onEvent: (action, id, attrs) => this.events.append('image', action, id, attrs) }));
  }

  get unpacker(): SnapshotUnpacker {
    return (this.#unpacker ??= openSnapshotUnpacker(this.root));
  }

  get snapshotter(): Snapshotter {
    return this.unpacker.snapshotter;
  }

  /** The driver for a runtime name (container's `--runtime`, else the engine's default). */
  runtime(name?: string): RuntimeDriver {
    const n = name || this.#defaultRuntime || process.env.BERTH_RUNTIME || 'berth';
    let d = this.#runtimes.get(n);
    if (!d) this.#runtimes.set(n, (d = runtimeDriver(n, this.state)));
    return d;
  }

  paths(id: string) {
    return containerPaths(this.root, this.state, id);
  }
}
