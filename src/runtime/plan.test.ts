import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Spec } from '../spec/runtime.js';
import {
  MS,
  capMask,
  compileExecPlan,
  compileLaunchPlan,
  decodeArg,
  encodeArg,
  encodePlan,
  parseMountOptions,
  type PlanOp,
} from './plan.js';

function spec(over: Partial<Spec> = {}): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['true'], env: ['PATH=/bin'] },
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
    ...over,
  };
}
const find = (ops: PlanOp[], op: string) => ops.filter((o) => o[0] === op);

describe('plan: mount options', () => {
  it('splits flags, propagation and data', () => {
    const f = parseMountOptions(['ro', 'nosuid', 'nodev', 'noexec', 'relatime', 'rslave', 'mode=755', 'size=64k']);
    assert.equal(f.flags, MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME);
    assert.equal(f.propagation, MS.SLAVE | MS.REC);
    assert.equal(f.data, 'mode=755,size=64k');
  });
  it('later options win (ro then rw)', () => {
    assert.equal(parseMountOptions(['ro', 'rw']).flags & MS.RDONLY, 0);
    assert.equal(parseMountOptions(['rbind']).flags, MS.BIND | MS.REC);
    assert.equal(parseMountOptions(['strictatime', 'nostrictatime']).flags, 0);
  });
  it('rejects idmapped mounts', () => {
    assert.throws(() => parseMountOptions(['idmap'], 'mounts[3]'), /mounts\[3\]: mount option "idmap" is not supported/);
  });
});

describe('plan: capabilities', () => {
  it('maps names to bits', () => {
    assert.equal(capMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_AUDIT_WRITE'], 'x'), '0x20000021');
    assert.equal(capMask(['CAP_CHECKPOINT_RESTORE'], 'x'), '0x10000000000');
    assert.equal(capMask(undefined, 'x'), '0x0');
    assert.throws(() => capMask(['CAP_NOPE'], 'process.capabilities.bounding'), /bounding: unknown capability "CAP_NOPE"/);
  });
});

describe('plan: encoding', () => {
  it('round-trips any string and keeps lines single-line', () => {
    for (const s of ['', 'a b', 'x\ny', '100%', '~', 'héllo', 'PATH=/bin:/usr/bin', 'a\tb\0c']) {
      const e = encodeArg(s);
      assert.ok(!/[\s]/.test(e), `${JSON.stringify(e)} has whitespace`);
      assert.equal(decodeArg(e), s);
    }
    assert.equal(encodeArg(''), '~');
    assert.equal(encodeArg('~'), '%7E');
    assert.equal(encodePlan([['ARG', 'echo hi'], ['NOPIVOT']]), 'BERTH-PLAN 1\nARG echo%20hi\nNOPIVOT\nEND\n');
  });
});

describe('plan: compileLaunchPlan', () => {
  it('resolves the rootfs and bind sources against the bundle', () => {
    const ops = compileLaunchPlan({
      spec: spec({ mounts: [{ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] }] }),
      bundle: '/b',
    });
    assert.deepEqual(find(ops, 'ROOTFS'), [['ROOTFS', '/b/rootfs']]);
    assert.deepEqual(find(ops, 'MOUNT'), [['MOUNT', '/b/data', '/data', '', MS.BIND | MS.REC | MS.RDONLY, 0, '']]);
  });
  it('orders namespaces user first and separates new from joined', () => {
    const ops = compileLaunchPlan({
      spec: spec({
        linux: {
          namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }, { type: 'user', path: '/proc/9/ns/user' }],
        },
      }),
      bundle: '/b',
    });
    const ns = ops.filter((o) => o[0].startsWith('NS'));
    assert.deepEqual(ns, [['NSJOIN', 'user', '/proc/9/ns/user'], ['NSNEW', 'mount'], ['NSJOIN', 'network', '/run/netns/x']]);
  });
  it('writes id maps for a new user namespace; setgroups deny only when rootless', () => {
    const s = spec({
      linux: {
        namespaces: [{ type: 'user' }, { type: 'mount' }],
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      },
    });
    const root = compileLaunchPlan({ spec: s, bundle: '/b', hostUid: 0 });
    assert.deepEqual(find(root, 'UIDMAP'), [['UIDMAP', 0, 100000, 65536]]);
    assert.deepEqual(find(root, 'SETGROUPS'), []);
    assert.deepEqual(find(compileLaunchPlan({ spec: s, bundle: '/b', hostUid: 1000 }), 'SETGROUPS'), [['SETGROUPS', 'deny']]);
  });
  it('adds the default devices and symlinks unless /dev is bound from the host', () => {
    const ops = compileLaunchPlan({
      spec: spec({ linux: { namespaces: [{ type: 'mount' }], devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o600 }] } }),
      bundle: '/b',
    });
    const devs = find(ops, 'MKDEV').map((o) => o[1]);
    assert.deepEqual(devs, ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/fuse']);
    assert.deepEqual(find(ops, 'MKDEV')[6], ['MKDEV', '/dev/fuse', 'c', 10, 229, 0o600, 0, 0]);
    assert.ok(find(ops, 'SYMLINK').some((o) => o[1] === '/dev/ptmx' && o[2] === 'pts/ptmx'));
    const host = compileLaunchPlan({ spec: spec({ mounts: [{ destination: '/dev', source: '/dev', options: ['rbind'] }] }), bundle: '/b' });
    assert.deepEqual(find(host, 'MKDEV'), []);
    assert.deepEqual(find(host, 'SYMLINK'), []);
  });
  it('compiles the process: user, groups, caps, rlimits, env, args in order', () => {
    const ops = compileLaunchPlan({
      spec: spec({
        process: {
          user: { uid: 1, gid: 2, additionalGids: [3, 4], umask: 0o22 },
          cwd: '/w',
          args: ['a', 'b c'],
          env: ['A=1'],
          noNewPrivileges: true,
          oomScoreAdj: 100,
          terminal: true,
          consoleSize: { height: 24, width: 80 },
          rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }],
          capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'] },
        },
      }),
      bundle: '/b',
    });
    assert.deepEqual(find(ops, 'USER'), [['USER', 1, 2]]);
    assert.deepEqual(find(ops, 'GROUPS'), [['GROUPS', 3, 4]]);
    assert.deepEqual(find(ops, 'UMASK'), [['UMASK', 0o22]]);
    assert.deepEqual(find(ops, 'RLIMIT'), [['RLIMIT', 7, '10', '20', 'RLIMIT_NOFILE']]);
    assert.deepEqual(find(ops, 'CAPS'), [['CAPS', '0x20', '0x20', '0x0', '0x0', '0x0']]);
    assert.deepEqual(find(ops, 'TERMINAL'), [['TERMINAL', 24, 80]]);
    assert.deepEqual(find(ops, 'OOMSCOREADJ'), [['OOMSCOREADJ', 100]]);
    assert.deepEqual(find(ops, 'NONEWPRIVS'), [['NONEWPRIVS']]);
    assert.deepEqual(find(ops, 'ARG'), [['ARG', 'a'], ['ARG', 'b c']]);
    assert.deepEqual(find(ops, 'CWD'), [['CWD', '/w']]);
  });
  it('mounts cgroup hierarchies: fresh ones in a cgroup ns, the container\'s own dir without one', () => {
    const hostCgroups = [
      { mountPoint: '/sys/fs/cgroup/cpu,cpuacct', fstype: 'cgroup' as const, options: 'cpu,cpuacct' },
      { mountPoint: '/sys/fs/cgroup/memory', fstype: 'cgroup' as const, options: 'memory' },
    ];
    const mounts = [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] }];
    const withNs = compileLaunchPlan({
      spec: spec({ mounts, linux: { namespaces: [{ type: 'mount' }, { type: 'cgroup' }] } }),
      bundle: '/b',
      hostCgroups,
    });
    assert.deepEqual(find(withNs, 'MOUNT').map((o) => [o[1], o[2], o[3]]), [
      ['tmpfs', '/sys/fs/cgroup', 'tmpfs'],
      ['cgroup', '/sys/fs/cgroup/cpu,cpuacct', 'cgroup'],
      ['cgroup', '/sys/fs/cgroup/memory', 'cgroup'],
    ]);
    assert.deepEqual(find(withNs, 'SYMLINK').slice(0, 2), [
      ['SYMLINK', '/sys/fs/cgroup/cpu', 'cpu,cpuacct'],
      ['SYMLINK', '/sys/fs/cgroup/cpuacct', 'cpu,cpuacct'],
    ]);
    assert.deepEqual(find(withNs, 'REMOUNT'), [['REMOUNT', '/sys/fs/cgroup', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC]]);
    const noNs = compileLaunchPlan({
      spec: spec({ mounts }),
      bundle: '/b',
      hostCgroups,
      cgroupProcsFiles: ['/sys/fs/cgroup/memory/berth/c1/cgroup.procs'],
    });
    // only the hierarchy we have a cgroup in is shown, and only our own subtree
    assert.deepEqual(find(noNs, 'MOUNT').map((o) => [o[1], o[2]]), [
      ['tmpfs', '/sys/fs/cgroup'],
      ['/sys/fs/cgroup/memory/berth/c1', '/sys/fs/cgroup/memory'],
    ]);
  });
  it('carries the exec fifo, console socket, preserved fds, seccomp', () => {
    const ops = compileLaunchPlan({
      spec: spec(),
      bundle: '/b',
      fifo: '/s/exec.fifo',
      consoleSocket: '/s/c.sock',
      preserveFds: 2,
      noPivot: true,
      seccompBpf: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
    });
    assert.deepEqual(find(ops, 'FIFO'), [['FIFO', '/s/exec.fifo']]);
    assert.deepEqual(find(ops, 'UMASK'), [['UMASK', 0o22]], 'runc\'s default umask');
    assert.deepEqual(find(ops, 'CONSOLESOCKET'), [['CONSOLESOCKET', '/s/c.sock']]);
    assert.deepEqual(find(ops, 'PRESERVEFDS'), [['PRESERVEFDS', 2]]);
    assert.deepEqual(find(ops, 'NOPIVOT'), [['NOPIVOT']]);
    assert.deepEqual(find(ops, 'SECCOMP'), [['SECCOMP', 0, '060000000000ff7f']]);
    assert.equal(ops.at(-1)?.[0], 'SECCOMP');
  });
  it('maps an infinite rlimit exactly', () => {
    const ops = compileLaunchPlan({
      spec: spec({ process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['x'], rlimits: [{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }] } }),
      bundle: '/b',
    });
    assert.deepEqual(find(ops, 'RLIMIT'), [['RLIMIT', 4, '18446744073709551615', '18446744073709551615', 'RLIMIT_CORE']]);
  });
  it('rejects an unknown rlimit', () => {
    assert.throws(
      () => compileLaunchPlan({ spec: spec({ process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['x'], rlimits: [{ type: 'RLIMIT_X', soft: 1, hard: 1 }] } }), bundle: '/b' }),
      /unknown rlimit "RLIMIT_X"/,
    );
  });
});

describe('plan: compileExecPlan', () => {
  it('joins the given namespaces, enters the init root, applies the process', () => {
    const ops = compileExecPlan({
      pid: 42,
      process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['sh'] },
      namespaces: [{ type: 'pid', path: '/proc/42/ns/pid' }, { type: 'user', path: '/proc/42/ns/user' }],
      cgroupProcsFiles: ['/sys/fs/cgroup/pids/c/cgroup.procs'],
      cgroupReturnFiles: ['/sys/fs/cgroup/pids/cgroup.procs'],
      detach: true,
    });
    assert.deepEqual(find(ops, 'CGROUP'), [['CGROUP', '/sys/fs/cgroup/pids/c/cgroup.procs']]);
    assert.deepEqual(find(ops, 'CGROUPLEAVE'), [['CGROUPLEAVE', '/sys/fs/cgroup/pids/cgroup.procs']]);
    assert.deepEqual(ops[0], ['MODE', 'exec']);
    assert.deepEqual(find(ops, 'NSJOIN'), [['NSJOIN', 'user', '/proc/42/ns/user'], ['NSJOIN', 'pid', '/proc/42/ns/pid']]);
    assert.deepEqual(find(ops, 'ROOTDIR'), [['ROOTDIR', '/proc/42/root']]);
    assert.deepEqual(find(ops, 'DETACH'), [['DETACH']]);
    assert.deepEqual(find(ops, 'ARG'), [['ARG', 'sh']]);
  });
});
