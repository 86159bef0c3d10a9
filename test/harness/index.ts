/**
 * The shared test harness. Typical integration file:
 *
 *   const scope = new Scope('runtime-lifecycle');
 *   leakCheckFile(scope);
 *   const rt = new RuntimeCli(scope);               // BERTH_TEST_RUNTIME or bin/berth-runtime
 *   const b = Bundle.create(scope).args('/checker');
 *   const r = await rt.run(['run', '--bundle', b.dir, scope.uid()]);
 */
export { Scope, mountsUnder, removeTree, unescapeMountinfo, type Cleanup } from './scope.js';
export { exec, execOk, execPty, describe, shellQuote, type ExecOptions, type ExecResult } from './exec.js';
export { fixture, repoRoot, type FixtureName } from './fixtures.js';
export { Bundle, defaultSpec, rootfsTemplate, writeBusyboxRootfs, busyboxApplets, BUSYBOX, type BundleOptions, type HookKind } from './bundle.js';
export {
  leakSnapshot,
  leaksBetween,
  assertNoLeaks,
  settledLeaks,
  withLeakCheck,
  leakCheckFile,
  formatLeaks,
  type LeakSnapshot,
  type LeakKind,
} from './leak.js';
export { ConsoleReceiver } from './console.js';
export { startRegistry, freePort, bcryptHash, type Registry, type RegistryOptions } from './registry.js';
export { buildBusyboxLayout, pushLayout, pushBusybox, type OciLayoutImage } from './image.js';
export {
  RuntimeCli,
  runtimeBinary,
  runtimeName,
  parseReport,
  decodeCaps,
  CAPABILITIES,
  type CheckerReport,
  type CheckerMount,
  type PathProbe,
} from './runtime.js';
export {
  runcInvocation,
  crunInvocation,
  podmanSetup,
  startContainerd,
  unmountUnder,
  removeScopeCgroups,
  type Invocation,
  type PodmanSetup,
  type PodmanOptions,
  type ContainerdInstance,
} from './peers.js';
