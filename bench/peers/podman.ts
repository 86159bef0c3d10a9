/**
 * podman with private configuration and storage (PEERS.md): cgroupfs, file events, runc,
 * default_ulimits pinned under this machine's hard nofile limit, the loopback registry marked
 * insecure, and its own graphroot/runroot/tmpdir per store. Never touches the shared lock
 * table (/dev/shm/libpod_lock): no renumber, no num_locks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../lib/cleanup.js';

export interface PodmanConfig {
  env: NodeJS.ProcessEnv;
  /** A fresh store below `dir`: global flags selecting it. */
  storeFlags(dir: string): string[];
}

export function podmanConfig(registryHost: string): PodmanConfig {
  const dir = tempDir('podman-conf').path;
  const conf = join(dir, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(dir, 'events.log')}"`,
      'runtime = "runc"',
      '[network]',
      `network_config_dir = "${join(dir, 'networks')}"`,
      '',
    ].join('\n'),
  );
  const registries = join(dir, 'registries.conf');
  writeFileSync(
    registries,
    ['unqualified-search-registries = []', '', '[[registry]]', `location = "${registryHost}"`, 'insecure = true', ''].join('\n'),
  );
  const storage = join(dir, 'storage.conf');
  writeFileSync(
    storage,
    ['[storage]', 'driver = "overlay"', `graphroot = "${join(dir, 'graph')}"`, `runroot = "${join(dir, 'run')}"`, ''].join('\n'),
  );
  return {
    env: {
      ...process.env,
      CONTAINERS_CONF: conf,
      CONTAINERS_REGISTRIES_CONF: registries,
      CONTAINERS_STORAGE_CONF: storage,
    },
    storeFlags(d: string): string[] {
      for (const s of ['graph', 'run', 'tmp']) mkdirSync(join(d, s), { recursive: true });
      return ['--root', join(d, 'graph'), '--runroot', join(d, 'run'), '--tmpdir', join(d, 'tmp')];
    },
  };
}
