import { readFileSync } from 'node:fs';
import { BerthError } from '../../errors/index.js';
import type { Spec } from '../../spec/runtime.js';
import { openCgroups, resolveCgroupsPath, type CgroupManager } from '../../sys/cgroup/index.js';
import type { ContainerRecord } from '../containers/store.js';
import type { Engine } from '../engine.js';

/** The cgroup of a container, from the cgroupsPath its config.json gave the runtime. */
export function containerCgroup(engine: Engine, rec: ContainerRecord): CgroupManager {
  let spec: Spec;
  try {
    spec = JSON.parse(readFileSync(engine.paths(rec.id).config, 'utf8')) as Spec;
  } catch (err) {
    throw BerthError.wrap(err, `container ${JSON.stringify(rec.name)}: read its config.json`);
  }
  return openCgroups(resolveCgroupsPath(spec.linux?.cgroupsPath, rec.id), { warn: () => {} });
}
