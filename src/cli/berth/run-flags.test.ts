import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBytes, parseDevice, parseMount, parseTmpfs, parseUlimit, parseVolume, runConfigFrom, type RunFlags } from './run-flags.js';

const flags = (over: Partial<RunFlags> = {}): RunFlags => ({
  env: [], envFile: [], groupAdd: [], volume: [], mount: [], tmpfs: [], ulimit: [], capAdd: [], capDrop: [],
  securityOpt: [], device: [], label: [], logOpt: [], sysctl: [], ...over,
});

test('parseBytes: docker sizes', () => {
  assert.equal(parseBytes('512', 'm'), 512);
  assert.equal(parseBytes('64m', 'm'), 64 * 1024 * 1024);
  assert.equal(parseBytes('1g', 'm'), 1024 ** 3);
  assert.equal(parseBytes('1.5k', 'm'), 1536);
  assert.equal(parseBytes('2GiB', 'm'), 2 * 1024 ** 3);
  assert.throws(() => parseBytes('lots', '--memory'), /invalid --memory "lots"/);
});

test('parseVolume: bind, named, anonymous, options', () => {
  assert.deepEqual(parseVolume('/h:/c'), { type: 'bind', source: '/h', target: '/c', readOnly: false });
  assert.deepEqual(parseVolume('/h:/c:ro,rshared'), { type: 'bind', source: '/h', target: '/c', readOnly: true, propagation: 'rshared' });
  assert.deepEqual(parseVolume('data:/d'), { type: 'volume', source: 'data', target: '/d', readOnly: false });
  assert.deepEqual(parseVolume('/anon'), { type: 'volume', target: '/anon', readOnly: false });
  assert.throws(() => parseVolume('data:rel'), /absolute/);
  assert.throws(() => parseVolume('/a:/b:bogus'), /unknown option "bogus"/);
});

test('parseMount and parseTmpfs', () => {
  assert.deepEqual(parseMount('type=bind,source=/h,target=/c,readonly'), { type: 'bind', source: '/h', target: '/c', readOnly: true });
  assert.deepEqual(parseMount('type=volume,src=v,dst=/v'), { type: 'volume', source: 'v', target: '/v', readOnly: false });
  assert.deepEqual(parseMount('type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770'), { type: 'tmpfs', target: '/t', readOnly: false, tmpfsSize: 1048576, tmpfsMode: 0o1770 });
  assert.throws(() => parseMount('type=bind,target=/c'), /source is required/);
  assert.throws(() => parseMount('type=nfs,target=/c'), /type must be/);
  assert.deepEqual(parseTmpfs('/run:size=64k,mode=700'), { type: 'tmpfs', target: '/run', tmpfsSize: 65536, tmpfsMode: 0o700 });
});

test('parseUlimit and parseDevice', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { name: 'nofile', soft: 1024, hard: 2048 });
  assert.deepEqual(parseUlimit('nproc=10'), { name: 'nproc', soft: 10, hard: 10 });
  assert.throws(() => parseUlimit('nofile'), /invalid ulimit/);
  assert.deepEqual(parseDevice('/dev/fuse'), { hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/fuse:r'), { hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'r' });
  assert.deepEqual(parseDevice('/dev/a:/dev/b:rw'), { hostPath: '/dev/a', containerPath: '/dev/b', permissions: 'rw' });
});

test('runConfigFrom: flags to RunConfig', () => {
  const c = runConfigFrom('img', ['sh', '-c', 'x'], flags({
    name: 'n', env: ['A=1'], workdir: '/w', user: 'nobody', entrypoint: '', memory: '64m', memorySwap: '-1', cpus: '0.5',
    pidsLimit: '10', restart: 'on-failure:3', rm: false, label: ['a=b', 'flag'], logOpt: ['max-size=1k', 'max-file=3'], network: 'host',
  }));
  assert.equal(c.name, 'n');
  assert.deepEqual(c.cmd, ['sh', '-c', 'x']);
  assert.deepEqual(c.entrypoint, []);
  assert.equal(c.memory, 64 * 1024 * 1024);
  assert.equal(c.memorySwap, -1);
  assert.equal(c.cpus, 0.5);
  assert.equal(c.pidsLimit, 10);
  assert.equal(c.restart, 'on-failure:3');
  assert.deepEqual(c.labels, { a: 'b', flag: '' });
  assert.equal(c.logMaxSize, 1024);
  assert.equal(c.logMaxFiles, 3);
  assert.equal(c.networkMode, 'host');
  assert.equal(runConfigFrom('img', [], flags({ net: 'none' })).networkMode, 'none');
  // no --network: docker's default bridge, spelled as the docker CLI sends it
  assert.equal(runConfigFrom('img', [], flags()).networkMode, 'default');
  assert.equal(runConfigFrom('img', [], flags({ restart: 'no' })).restart, undefined);
  assert.throws(() => runConfigFrom('img', [], flags({ logOpt: ['max-file=2'] })), /max-file can only be used with max-size/);
  assert.throws(() => runConfigFrom('img', [], flags({ logOpt: ['color=red'] })), /unknown log opt 'color'/);
  assert.throws(() => runConfigFrom('img', [], flags({ logDriver: 'syslog' })), /only json-file/);
});
