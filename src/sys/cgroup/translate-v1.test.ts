import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translateV1, deviceLine } from './translate-v1.js';
import { isBerthError } from '../../errors/index.js';

const pairs = (r: Parameters<typeof translateV1>[0], o?: Parameters<typeof translateV1>[1]) =>
  translateV1(r, o).map((w) => [w.file, w.value]);

test('v1: nothing set writes nothing', () => {
  assert.deepEqual(translateV1(undefined), []);
  assert.deepEqual(translateV1({}), []);
});

test('v1: memory limits, swap order depends on raising or lowering', () => {
  // fresh cgroup: limit first (lowering from unlimited)
  assert.deepEqual(pairs({ memory: { limit: 100, swap: 200, reservation: 50, swappiness: 10, disableOOMKiller: true } }), [
    ['memory.limit_in_bytes', '100'],
    ['memory.memsw.limit_in_bytes', '200'],
    ['memory.soft_limit_in_bytes', '50'],
    ['memory.swappiness', '10'],
    ['memory.oom_control', '1'],
  ]);
  // raising above the current limit: memsw first
  assert.deepEqual(pairs({ memory: { limit: 300, swap: 400 } }, { currentMemoryLimit: 100 }), [
    ['memory.memsw.limit_in_bytes', '400'],
    ['memory.limit_in_bytes', '300'],
  ]);
  assert.deepEqual(pairs({ memory: { limit: 50, swap: 60 } }, { currentMemoryLimit: 100 }), [
    ['memory.limit_in_bytes', '50'],
    ['memory.memsw.limit_in_bytes', '60'],
  ]);
  // unlimited memory, swap unset -> both unlimited, memsw first when a limit was set
  assert.deepEqual(pairs({ memory: { limit: -1 } }, { currentMemoryLimit: 100 }), [
    ['memory.memsw.limit_in_bytes', '-1'],
    ['memory.limit_in_bytes', '-1'],
  ]);
  const memsw = translateV1({ memory: { limit: 1, swap: 2 } }).find((w) => w.file === 'memory.memsw.limit_in_bytes');
  assert.equal(memsw?.ifMissing, 'warn');
  assert.throws(() => translateV1({ memory: { swappiness: 101 } }), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
});

test('v1: kmem is optional', () => {
  const ws = translateV1({ memory: { kernel: 1 << 20, kernelTCP: 1 << 20 } });
  assert.deepEqual(ws.map((w) => [w.file, w.ifMissing]), [
    ['memory.kmem.limit_in_bytes', 'warn'],
    ['memory.kmem.tcp.limit_in_bytes', 'warn'],
  ]);
});

test('v1: cpu, cpuset, pids', () => {
  assert.deepEqual(pairs({ cpu: { shares: 512, quota: 50000, period: 100000, realtimePeriod: 1000000, realtimeRuntime: 950000, cpus: '0-1', mems: '0' } }), [
    ['cpu.shares', '512'],
    ['cpu.cfs_period_us', '100000'],
    ['cpu.cfs_quota_us', '50000'],
    ['cpu.rt_period_us', '1000000'],
    ['cpu.rt_runtime_us', '950000'],
    ['cpuset.mems', '0'],
    ['cpuset.cpus', '0-1'],
  ]);
  assert.deepEqual(pairs({ cpu: { quota: -1 } }), [['cpu.cfs_quota_us', '-1']]);
  assert.deepEqual(pairs({ cpu: { quota: 0, period: 0, shares: 0 } }), []);
  assert.deepEqual(pairs({ pids: { limit: 5 } }), [['pids.max', '5']]);
  assert.deepEqual(pairs({ pids: { limit: -1 } }), [['pids.max', 'max']]);
  assert.deepEqual(pairs({ pids: { limit: 0 } }), [['pids.max', 'max']]);
});

test('v1: blkio with bfq fallback and throttles', () => {
  const ws = translateV1({
    blockIO: {
      weight: 300,
      weightDevice: [{ major: 8, minor: 0, weight: 500 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
    },
  });
  assert.deepEqual(ws.map((w) => [w.file, w.value, w.alternatives?.[0]?.file]), [
    ['blkio.weight', '300', 'blkio.bfq.weight'],
    ['blkio.weight_device', '8:0 500', 'blkio.bfq.weight_device'],
    ['blkio.throttle.read_bps_device', '8:0 1048576', undefined],
    ['blkio.throttle.write_iops_device', '8:16 100', undefined],
  ]);
});

test('v1: hugetlb, devices', () => {
  assert.deepEqual(pairs({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }), [['hugetlb.2MB.limit_in_bytes', '4194304']]);
  assert.throws(() => translateV1({ hugepageLimits: [{ pageSize: '../x', limit: 1 }] }), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
  assert.deepEqual(
    pairs({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, minor: null, access: 'rw' },
        { allow: true, type: 'b', access: 'm' },
      ],
    }),
    [
      ['devices.deny', 'a'],
      ['devices.allow', 'c 1:3 rwm'],
      ['devices.allow', 'c 136:* rw'],
      ['devices.allow', 'b *:* m'],
    ],
  );
  assert.throws(() => deviceLine({ allow: true, type: 'c', access: 'rx' }), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
});
