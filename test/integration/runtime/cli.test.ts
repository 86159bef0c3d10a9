// The commands that do not need a container: spec and features.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RuntimeCli, Scope, describe as show, leakCheckFile } from '../../harness/index.js';
import type { Spec } from '../../../src/spec/runtime.js';

const scope = new Scope('runtime-cli');
leakCheckFile(scope);
const rt = new RuntimeCli(scope);

test('spec writes a default config.json into --bundle', async () => {
  const dir = scope.mkdtemp('spec');
  const r = await rt.run(['spec', '--bundle', dir]);
  assert.equal(r.code, 0, show(r));
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  assert.match(spec.ociVersion, /^1\.\d+\.\d+/);
  assert.equal(spec.root?.path, 'rootfs');
  assert.ok(spec.process?.args?.length, 'process.args');
  assert.ok(spec.process?.cwd);
  const ns = (spec.linux?.namespaces ?? []).map((n) => n.type);
  for (const t of ['pid', 'network', 'ipc', 'uts', 'mount'] as const) assert.ok(ns.includes(t), `namespace ${t}`);
  assert.ok(spec.mounts?.some((m) => m.destination === '/proc' && m.type === 'proc'));
  assert.ok(spec.linux?.maskedPaths?.includes('/proc/kcore'));
});

test('spec refuses to overwrite an existing config.json', async () => {
  const dir = scope.mkdtemp('spec');
  writeFileSync(join(dir, 'config.json'), '{"mine":true}');
  const r = await rt.run(['spec', '--bundle', dir]);
  assert.notEqual(r.code, 0);
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"mine":true}');
});

test('features reports the supported spec versions, hooks, namespaces and capabilities', async () => {
  const r = await rt.run(['features']);
  assert.equal(r.code, 0, show(r));
  const f = JSON.parse(r.stdout) as {
    ociVersionMin: string;
    ociVersionMax: string;
    hooks?: string[];
    mountOptions?: string[];
    linux?: { namespaces?: string[]; capabilities?: string[]; cgroup?: Record<string, boolean> };
  };
  assert.match(f.ociVersionMin, /^1\./);
  assert.match(f.ociVersionMax, /^1\./);
  for (const h of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) assert.ok(f.hooks?.includes(h), `hook ${h}`);
  for (const n of ['pid', 'network', 'ipc', 'uts', 'mount']) assert.ok(f.linux?.namespaces?.includes(n), `namespace ${n}`);
  assert.ok(f.linux?.capabilities?.includes('CAP_SYS_ADMIN'));
  assert.ok(f.mountOptions?.includes('ro') && f.mountOptions.includes('bind'), 'mount options');
});

test('an unknown command or flag fails with usage on stderr', async () => {
  const r = await rt.run(['no-such-command']);
  assert.notEqual(r.code, 0);
});
