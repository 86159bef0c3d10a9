import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, capabilitySet, mergeEnv, processArgs } from './spec-builder.js';
import { DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS } from './defaults.js';
import { isBerthError } from '../errors/index.js';
import type { RunConfig } from './run-config.js';

const user = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
const base = (config: Partial<RunConfig> = {}) =>
  buildSpec({ id: 'abcdef0123456789', config: { image: 'busybox', ...config }, image: { Cmd: ['sh'], Env: ['PATH=/bin', 'A=image'] }, rootfs: '/r', user });

test('entrypoint and cmd follow docker rules', () => {
  assert.deepEqual(processArgs({ image: 'x' }, { Entrypoint: ['/ep'], Cmd: ['a'] }), ['/ep', 'a']);
  assert.deepEqual(processArgs({ image: 'x', cmd: ['b'] }, { Entrypoint: ['/ep'], Cmd: ['a'] }), ['/ep', 'b']);
  assert.deepEqual(processArgs({ image: 'x', entrypoint: ['/x'] }, { Entrypoint: ['/ep'], Cmd: ['a'] }), ['/x']);
  assert.deepEqual(processArgs({ image: 'x', entrypoint: [], cmd: ['ls'] }, { Entrypoint: ['/ep'], Cmd: ['a'] }), ['ls']);
  assert.throws(() => processArgs({ image: 'x' }, {}), (e) => isBerthError(e, 'INVALID_ARGUMENT') && /no command specified/.test(e.message));
});

test('env: image then user, later wins; HOSTNAME and HOME set', () => {
  const s = base({ env: ['A=user', 'B=2'] });
  assert.ok(s.process!.env!.includes('A=user'));
  assert.ok(s.process!.env!.includes('PATH=/bin'));
  assert.ok(s.process!.env!.includes('HOSTNAME=abcdef012345'));
  assert.ok(s.process!.env!.includes('HOME=/root'));
  assert.equal(s.process!.env!.filter((e) => e.startsWith('A=')).length, 1);
  assert.deepEqual(mergeEnv(['X=1'], ['X=2', 'Y=3']), ['X=2', 'Y=3']);
});

test('capabilities: docker defaults, add, drop, ALL, privileged', () => {
  assert.deepEqual(new Set(capabilitySet({ image: 'x' })), new Set(DEFAULT_CAPABILITIES));
  assert.equal(capabilitySet({ image: 'x' }).length, 14);
  const c = capabilitySet({ image: 'x', capAdd: ['net_admin'], capDrop: ['CAP_CHOWN'] });
  assert.ok(c.includes('CAP_NET_ADMIN') && !c.includes('CAP_CHOWN'));
  assert.deepEqual(capabilitySet({ image: 'x', capDrop: ['ALL'], capAdd: ['kill'] }), ['CAP_KILL']);
  assert.ok(capabilitySet({ image: 'x', privileged: true }).includes('CAP_SYS_ADMIN'));
  assert.throws(() => capabilitySet({ image: 'x', capAdd: ['CAP_NOPE'] }), /unknown capability/);
});

test('secure defaults: masked/readonly paths, device allow-list, ro sysfs; privileged lifts them', () => {
  const s = base();
  assert.deepEqual(s.linux!.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.ok(s.linux!.readonlyPaths!.includes('/proc/sysrq-trigger'));
  assert.deepEqual(s.linux!.resources!.devices![0], { allow: false, access: 'rwm' });
  assert.ok(s.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.equal(s.process!.noNewPrivileges, false);
  const t = buildSpec({ id: 'abcdef0123456789', config: { image: 'busybox' }, image: { Cmd: ['sh'] }, rootfs: '/r', user, extraMaskedPaths: ['/sys/devices/system/cpu/cpu0/thermal_throttle'] });
  assert.deepEqual(t.linux!.maskedPaths, [...DEFAULT_MASKED_PATHS, '/sys/devices/system/cpu/cpu0/thermal_throttle']);
  const p = base({ privileged: true });
  assert.deepEqual(p.linux!.maskedPaths, []);
  assert.ok(!p.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.equal(base({ securityOpt: ['no-new-privileges'] }).process!.noNewPrivileges, true);
});

test('resources: memory, swap default, cpus, pids; bad values are clear errors', () => {
  const s = base({ memory: 64 * 1024 * 1024, cpus: 1.5, pidsLimit: 20 });
  assert.equal(s.linux!.resources!.memory!.limit, 64 * 1024 * 1024);
  assert.equal(s.linux!.resources!.memory!.swap, 128 * 1024 * 1024);
  assert.deepEqual(s.linux!.resources!.cpu, { period: 100000, quota: 150000 });
  assert.equal(s.linux!.resources!.pids!.limit, 20);
  assert.throws(() => base({ memory: 1024 }), /minimum memory limit/);
  assert.throws(() => base({ memory: 64 << 20, memorySwap: 32 << 20 }), /memoryswap/);
  assert.throws(() => base({ cpus: 0 }), /--cpus/);
});

test('ulimits above the host hard limit fail with the reason', () => {
  const mk = (hard: number) =>
    buildSpec({
      id: 'x'.repeat(12),
      config: { image: 'b', ulimits: [{ name: 'nofile', soft: 100, hard }] },
      image: { Cmd: ['sh'] },
      rootfs: '/r',
      user,
      hostHardLimits: { RLIMIT_NOFILE: 20000 },
    });
  assert.deepEqual(mk(1000).process!.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 1000 }]);
  assert.throws(() => mk(1048576), /above this host's 20000.*CAP_SYS_RESOURCE/);
});

test('user mounts: bind ro, tmpfs, volume; a later mount replaces a default at the same place', () => {
  const s = buildSpec({
    id: 'x'.repeat(12),
    config: {
      image: 'b',
      mounts: [
        { type: 'bind', source: '/host/data', target: '/data', readOnly: true },
        { type: 'tmpfs', target: '/dev/shm', tmpfsSize: 1 << 20 },
        { type: 'volume', source: 'v1', target: '/v' },
      ],
    },
    image: { Cmd: ['sh'] },
    rootfs: '/r',
    user,
    volumePaths: { v1: '/var/lib/berth/volumes/v1/_data' },
  });
  const data = s.mounts!.find((m) => m.destination === '/data')!;
  assert.deepEqual(data.options, ['rbind', 'ro', 'rprivate']);
  assert.equal(s.mounts!.filter((m) => m.destination === '/dev/shm').length, 1);
  assert.ok(s.mounts!.find((m) => m.destination === '/dev/shm')!.options!.includes(`size=${1 << 20}`));
  assert.equal(s.mounts!.find((m) => m.destination === '/v')!.source, '/var/lib/berth/volumes/v1/_data');
});

test('network: host shares the host stack, a joined namespace replaces the new one', () => {
  assert.ok(!base({ networkMode: 'host' }).linux!.namespaces!.some((n) => n.type === 'network'));
  const s = buildSpec({ id: 'x'.repeat(12), config: { image: 'b' }, image: { Cmd: ['sh'] }, rootfs: '/r', user, joinNamespaces: [{ type: 'network', path: '/run/netns/x' }] });
  assert.deepEqual(s.linux!.namespaces!.filter((n) => n.type === 'network'), [{ type: 'network', path: '/run/netns/x' }]);
});
