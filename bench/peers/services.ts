/**
 * The peers' services, set up by the test harness (test/harness/peers.ts, registry.ts,
 * image.ts) exactly as the interop tests use them, inside the bench run's harness scope:
 * one private docker-registry, podman stores with private config, private containerds.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { pushLayout } from '../../test/harness/image.js';
import { podmanSetup, startContainerd, type ContainerdInstance, type PodmanSetup } from '../../test/harness/peers.js';
import { startRegistry, type Registry } from '../../test/harness/registry.js';
import { benchScope, removeTree } from '../lib/cleanup.js';
import type { Context } from '../lib/context.js';
import type { BuiltImage } from './image.js';

export type { ContainerdInstance, PodmanSetup, Registry };

/** One registry for every suite of the run. */
export function sharedRegistry(ctx: Context): Promise<Registry> {
  return ctx.shared('registry', async () => {
    const r = await startRegistry(benchScope());
    ctx.log(`registry: docker-registry on ${r.host}`);
    return r;
  });
}

/** Push a built layout into the registry once per run; returns `host/repo:tag`. */
export function pushed(ctx: Context, registry: Registry, image: BuiltImage, repo: string): Promise<string> {
  return ctx.shared(`push:${repo}`, () =>
    pushLayout(
      {
        dir: image.layout,
        tag: image.tag,
        manifestDigest: image.manifestDigest,
        configDigest: image.configDigest,
        layerDigest: image.layerDigests[0],
        diffId: image.diffIds[0],
      },
      registry,
      repo,
    ),
  );
}

/**
 * A podman with private config and storage (overlay, as people use it), the registry marked
 * insecure. Its cleanup (rm, rmi, unmount, cgroups) runs at the end of the run too; the dir
 * itself must stay until then, since podman without its config files would fall back to the
 * machine's default store.
 */
export function podman(registry: Registry): PodmanSetup {
  const scope = benchScope();
  // conmon's sockets live below the runroot, and a runroot longer than 50 characters (podman's
  // own limit for --runroot) makes `podman run` hang until conmon's 20 s timeout. The scope's
  // runroot (/tmp/berth-<id>-bench-XXXXXX/podman-XXXXXX/runroot) is longer: use a short one,
  // removed after podman's own cleanup (registered before it, so it runs after it).
  const runroot = mkdtempSync('/tmp/bpr-');
  scope.defer(`remove podman runroot ${runroot}`, () => removeTree(runroot));
  const p = podmanSetup(scope, { driver: 'overlay', insecureRegistries: [registry.host] });
  const conf = p.env.CONTAINERS_STORAGE_CONF!;
  writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^runroot = .*$/m, `runroot = "${runroot}"`));
  return p;
}

/** A private containerd; `ctrArgv` drives it the way the bench times commands. */
export function containerd(): Promise<ContainerdInstance> {
  return startContainerd(benchScope());
}

export function ctrArgv(cd: ContainerdInstance, args: readonly string[]): string[] {
  return ['ctr', '--address', cd.address, '--namespace', cd.namespace, ...args];
}
