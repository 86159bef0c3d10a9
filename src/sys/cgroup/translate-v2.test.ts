import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translateV2, sharesToWeight, swapMaxV2, blkioToIoWeight, checkDevicesV2 } from './translate-v2.js';
import { isBerthError } from '../../errors/index.js';

const pairs = (r: Parameters<typeof translateV2>[0]) => translateV2(r).map((w) => [w.file, w.value]);

test('v2: cpu.shares -> cpu.weight keeps the defaults and the ends of the ranges', () => {
  assert.equal(sharesToWeight(1024), 100);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(500000), 10000);
  assert.equal(sharesToWeight(512), 59);
  assert.equal(sharesToWeight(2048), 174);
  assert.equal(sharesToWeight(0), 0);
  // monotonic
  let last = 0;
  for (let s = 2; s <= 262144; s = Math.ceil(s * 1.3)) {
    const w = sharesToWeight(s);
    assert.ok(w >= last && w >= 1 && w <= 10000, `shares ${s} -> ${w}`);
    last = w;
  }
});

test('v2: memory.swap.max is swap minus limit', () => {
  assert.equal(swapMaxV2(300, 100), '200');
  assert.equal(swapMaxV2(100, 100), '0');
  assert.equal(swapMaxV2(-1, 100), 'max');
  assert.equal(swapMaxV2(undefined, -1), 'max');
  assert.equal(swapMaxV2(0, -1), 'max');
  assert.equal(swapMaxV2(undefined, 100), undefined);
  assert.equal(swapMaxV2(0, 100), undefined);
  assert.throws(() => swapMaxV2(50, 100), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
  assert.throws(() => swapMaxV2(50, undefined), (e) => isBerthError(e, 'INVALID_ARGUMENT'));
});

test('v2: memory, cpu, cpuset, pids files', () => {
  assert.deepEqual(pairs({ memory: { limit: 100, swap: 300, reservation: 50 } }), [
    ['memory.max', '100'],
    ['memory.swap.max', '200'],
    ['memory.low', '50'],
  ]);
  assert.deepEqual(pairs({ memory: { limit: -1 } }), [
    ['memory.max', 'max'],
    ['memory.swap.max', 'max'],
  ]);
  assert.deepEqual(pairs({ cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0', mems: '0' } }), [
    ['cpu.weight', '100'],
    ['cpu.max', '50000 100000'],
    ['cpuset.mems', '0'],
    ['cpuset.cpus', '0'],
  ]);
  assert.deepEqual(pairs({ cpu: { quota: -1, period: 20000 } }), [['cpu.max', 'max 20000']]);
  assert.deepEqual(pairs({ cpu: { quota: 30000 } }), [['cpu.max', '30000']]);
  assert.deepEqual(pairs({ cpu: { burst: 1000, idle: 1 } }), [
    ['cpu.max.burst', '1000'],
    ['cpu.idle', '1'],
  ]);
  assert.throws(() => translateV2({ cpu: { realtimeRuntime: 1000 } }), (e) => isBerthError(e, 'NOT_IMPLEMENTED'));
  assert.deepEqual(pairs({ pids: { limit: 7 } }), [['pids.max', '7']]);
  assert.deepEqual(pairs({ pids: { limit: -1 } }), [['pids.max', 'max']]);
});

test('v2: io weight and io.max', () => {
  assert.equal(blkioToIoWeight(10), 1);
  assert.equal(blkioToIoWeight(1000), 10000);
  assert.equal(blkioToIoWeight(500), 4950);
  const ws = translateV2({
    blockIO: {
      weight: 500,
      weightDevice: [{ major: 8, minor: 0, weight: 100 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }],
    },
  });
  assert.deepEqual(ws.map((w) => [w.file, w.value, w.alternatives?.[0]?.file, w.alternatives?.[0]?.value]), [
    ['io.bfq.weight', '500', 'io.weight', '4950'],
    ['io.bfq.weight', '8:0 100', 'io.weight', '8:0 910'],
    ['io.max', '8:0 rbps=1048576', undefined, undefined],
    ['io.max', '8:0 wiops=max', undefined, undefined],
  ]);
});

test('v2: hugetlb, rdma, unified passthrough last', () => {
  assert.deepEqual(
    pairs({
      hugepageLimits: [{ pageSize: '1GB', limit: 0 }],
      rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 100 } },
      unified: { 'memory.high': '1000000', 'cgroup.max.depth': '2' },
      pids: { limit: 3 },
    }),
    [
      ['pids.max', '3'],
      ['hugetlb.1GB.max', '0'],
      ['rdma.max', 'mlx5_0 hca_handle=3 hca_object=100'],
      ['memory.high', '1000000'],
      ['cgroup.max.depth', '2'],
    ],
  );
  const controllers = translateV2({ unified: { 'memory.high': '1', 'cgroup.max.depth': '2' } }).map((w) => w.controller);
  assert.deepEqual(controllers, ['memory', '']);
  for (const bad of ['../memory.max', 'memory', 'a/b.c', 'Memory.max']) {
    assert.throws(() => translateV2({ unified: { [bad]: '1' } }), (e) => isBerthError(e, 'INVALID_ARGUMENT'), bad);
  }
});

test('v2: unsupported settings warn instead of failing', () => {
  const warnings: string[] = [];
  const ws = translateV2({ memory: { kernel: 1, swappiness: 10, disableOOMKiller: true }, network: { classID: 1 } }, (m) => warnings.push(m));
  assert.deepEqual(ws, []);
  assert.equal(warnings.length, 4);
});

test('v2: default device rules pass, anything else is NOT_IMPLEMENTED', () => {
  checkDevicesV2([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: null, minor: null, access: 'm' },
    { allow: true, type: 'b', access: 'm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 136, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
  ]);
  checkDevicesV2([{ allow: true, access: 'rwm' }]);
  assert.throws(
    () => checkDevicesV2([{ allow: true, type: 'b', major: 8, minor: 0, access: 'rw' }]),
    (e) => isBerthError(e, 'NOT_IMPLEMENTED') && /eBPF/.test(e.message) && /b 8:0 rw/.test(e.message),
  );
  assert.throws(() => checkDevicesV2([{ allow: true, type: 'c', access: 'rwm' }]), (e) => isBerthError(e, 'NOT_IMPLEMENTED'));
  assert.throws(() => checkDevicesV2([{ allow: false, type: 'c', major: 1, minor: 3 }]), (e) => isBerthError(e, 'NOT_IMPLEMENTED'));
  assert.deepEqual(translateV2({ devices: [{ allow: true, type: 'b', major: 8, minor: 0 }] }), []);
});
