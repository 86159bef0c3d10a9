// containerd drives the runtime under test through its runc shim (`ctr run --runc-binary
// PATH`): a busybox image from the test registry runs to completion. runc first.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  Scope,
  describe as show,
  exec,
  leakCheckFile,
  pushBusybox,
  runtimeBinary,
  startContainerd,
  startRegistry,
  type ContainerdInstance,
} from '../../harness/index.js';
import { absoluteBinary } from './_runtime.js';

const scope = new Scope('interop-containerd');
leakCheckFile(scope);
let cd: ContainerdInstance;
let ref: string;
let skip: string | undefined;

before(async () => {
  if ((await exec('ctr', ['--version']).catch(() => ({ code: 127 }))).code !== 0) {
    skip = 'containerd (ctr) is not installed';
    return;
  }
  const registry = await startRegistry(scope);
  ref = await pushBusybox(scope, registry);
  cd = await startContainerd(scope);
  const pull = await cd.ctr(['images', 'pull', '--plain-http', ref]);
  assert.equal(pull.code, 0, show(pull));
});

test('ctr run --rm with the default runc: the reference', async (t) => {
  if (skip) return t.skip(skip);
  const r = await cd.ctr(['run', '--rm', ref, scope.uid(), 'echo', 'hi']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'hi\n');
});

test('ctr run --runc-binary <runtime under test> --rm IMAGE ID echo hi', async (t) => {
  if (skip) return t.skip(skip);
  const runtime = await absoluteBinary(runtimeBinary());
  const r = await cd.ctr(['run', '--runc-binary', runtime, '--rm', ref, scope.uid(), 'echo', 'hi']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'hi\n');
});

test('ctr run --runc-binary <runtime under test>: the exit code and the checker view', async (t) => {
  if (skip) return t.skip(skip);
  const runtime = await absoluteBinary(runtimeBinary());
  const code = await cd.ctr(['run', '--runc-binary', runtime, '--rm', ref, scope.uid(), 'sh', '-c', 'exit 4']);
  assert.equal(code.code, 4, show(code));
  const r = await cd.ctr(['run', '--runc-binary', runtime, '--rm', ref, scope.uid(), '/checker']);
  assert.equal(r.code, 0, show(r));
  const rep = JSON.parse(r.stdout) as { pid: number; cgroup: string[] };
  assert.equal(rep.pid, 1);
  assert.ok(rep.cgroup.some((l) => l.includes(`/${cd.namespace}/`)), `cgroup under /<namespace>/: ${rep.cgroup.join(' ')}`);
});

test('ctr with the runtime under test: run -d, tasks exec, kill, delete', async (t) => {
  if (skip) return t.skip(skip);
  const runtime = await absoluteBinary(runtimeBinary());
  const id = scope.uid();
  const run = await cd.ctr(['run', '-d', '--runc-binary', runtime, ref, id, 'sleep', '600']);
  assert.equal(run.code, 0, show(run));
  try {
    const e = await cd.ctr(['tasks', 'exec', '--exec-id', 'x1', id, 'sh', '-c', 'echo in-exec; exit 6']);
    assert.equal(e.code, 6, show(e));
    assert.equal(e.stdout, 'in-exec\n');
    const ps = await cd.ctr(['tasks', 'ps', id]);
    assert.equal(ps.code, 0, show(ps));
    const kill = await cd.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
    assert.equal(kill.code, 0, show(kill));
    let status = '';
    for (let i = 0; i < 100 && !/STOPPED/.test(status); i++) {
      status = (await cd.ctr(['tasks', 'list'])).stdout;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(status, new RegExp(`${id}\\s+\\d+\\s+STOPPED`), status);
  } finally {
    await cd.ctr(['tasks', 'delete', '--force', id]);
    const del = await cd.ctr(['containers', 'delete', id]);
    assert.equal(del.code, 0, show(del));
  }
});
