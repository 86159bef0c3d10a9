// podman drives the runtime under test as its OCI runtime (`podman --runtime PATH`): a busybox
// image from the test registry runs to completion. runc first, as the reference.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  Scope,
  describe as show,
  exec,
  leakCheckFile,
  podmanSetup,
  pushBusybox,
  runtimeBinary,
  startRegistry,
  type PodmanSetup,
} from '../../harness/index.js';
import { absoluteBinary } from './_runtime.js';

const scope = new Scope('interop-podman');
leakCheckFile(scope);
let podman: PodmanSetup;
let ref: string;
let skip: string | undefined;

before(async () => {
  if ((await exec('podman', ['--version']).catch(() => ({ code: 127 }))).code !== 0) {
    skip = 'podman is not installed';
    return;
  }
  const registry = await startRegistry(scope);
  ref = await pushBusybox(scope, registry);
  podman = podmanSetup(scope, { insecureRegistries: [registry.host] });
  const pull = await podman.run(['pull', '--quiet', ref]);
  assert.equal(pull.code, 0, show(pull));
});

// Containers go under a cgroup parent named by the scope, so the leak check sees them.
const runArgs = (): string[] => ['run', '--rm', '--network', 'none', '--cgroup-parent', `/${scope.id}`];

test('podman run --rm with its default runtime (runc): the reference', async (t) => {
  if (skip) return t.skip(skip);
  const r = await podman.run([...runArgs(), ref, 'echo', 'hi']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'hi\n');
});

test('podman --runtime <runtime under test> run --rm IMAGE echo hi', async (t) => {
  if (skip) return t.skip(skip);
  const runtime = await absoluteBinary(runtimeBinary());
  const r = await podman.run(['--runtime', runtime, ...runArgs(), ref, 'echo', 'hi']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'hi\n');
});

test('podman --runtime <runtime under test>: the exit code and the checker view', async (t) => {
  if (skip) return t.skip(skip);
  const runtime = await absoluteBinary(runtimeBinary());
  const code = await podman.run(['--runtime', runtime, ...runArgs(), ref, 'sh', '-c', 'exit 3']);
  assert.equal(code.code, 3, show(code));
  const r = await podman.run(['--runtime', runtime, ...runArgs(), '--hostname', 'podman-berth', ref, '/checker']);
  assert.equal(r.code, 0, show(r));
  const rep = JSON.parse(r.stdout) as { pid: number; hostname: string; rlimits: Record<string, { soft: number; hard: number }> };
  assert.equal(rep.pid, 1);
  assert.equal(rep.hostname, 'podman-berth');
  assert.deepEqual(rep.rlimits.RLIMIT_NOFILE, { soft: 20000, hard: 20000 }, 'default_ulimits of containers.conf');
});

test('podman --runtime <runtime under test>: run -d, exec, stop, rm', async (t) => {
  if (skip) return t.skip(skip);
  const runtime = await absoluteBinary(runtimeBinary());
  const name = scope.uid('pod');
  const run = await podman.run(['--runtime', runtime, 'run', '-d', '--network', 'none', '--cgroup-parent', `/${scope.id}`, '--name', name, ref, 'sleep', '600']);
  assert.equal(run.code, 0, show(run));
  try {
    const e = await podman.run(['exec', name, 'sh', '-c', 'echo in-exec; exit 6']);
    assert.equal(e.code, 6, show(e));
    assert.equal(e.stdout, 'in-exec\n');
    const ps = await podman.run(['ps', '--filter', `name=${name}`, '--format', '{{.Status}}']);
    assert.match(ps.stdout, /^Up/, show(ps));
    // sleep as pid 1 ignores SIGTERM: stop has to fall back to SIGKILL after 1 s.
    const stop = await podman.run(['stop', '--time', '1', name]);
    assert.equal(stop.code, 0, show(stop));
    const st = await podman.run(['inspect', '--format', '{{.State.Status}}', name]);
    assert.equal(st.stdout.trim(), 'exited', show(st));
  } finally {
    const rm = await podman.run(['rm', '--force', name]);
    assert.equal(rm.code, 0, show(rm));
  }
});
