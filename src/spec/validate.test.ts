import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '../errors/index.js';
import { validateProcess, validateSpec } from './validate.js';

let bundle = '';
before(() => {
  bundle = mkdtempSync(join(tmpdir(), 'berth-validate-'));
  mkdirSync(join(bundle, 'rootfs'));
  writeFileSync(join(bundle, 'file'), '');
});
after(() => rmSync(bundle, { recursive: true, force: true }));

function good(): any {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs', readonly: true },
    hostname: 'h',
    process: {
      user: { uid: 0, gid: 0, additionalGids: [1] },
      cwd: '/',
      args: ['sh'],
      env: ['PATH=/bin'],
      capabilities: { bounding: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', source: '/tmp', options: ['rbind', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'uts' }, { type: 'pid' }, { type: 'network', path: '/run/netns/x' }, { type: 'ipc' }],
      sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100' },
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
    },
  };
}

function rejects(mutate: (s: any) => void, message: string | RegExp): void {
  const s = good();
  mutate(s);
  assert.throws(
    () => validateSpec(s, bundle),
    (e: unknown) => {
      assert.ok(isBerthError(e, 'INVALID_ARGUMENT'), String(e));
      if (typeof message === 'string') assert.equal((e as Error).message, message);
      else assert.match((e as Error).message, message);
      return true;
    },
  );
}

describe('validateSpec', () => {
  it('accepts a good spec and returns it', () => {
    const s = good();
    assert.equal(validateSpec(s, bundle), s);
  });

  it('names the field of a bad namespace', () => {
    rejects((s) => s.linux.namespaces.splice(2, 0, { type: 'foo' }), 'config.json: linux.namespaces[2].type: unknown namespace "foo"');
    rejects((s) => s.linux.namespaces.push({ type: 'uts' }), 'config.json: linux.namespaces[5].type: namespace "uts" is listed twice');
    rejects((s) => (s.linux.namespaces[3].path = 'netns/x'), /linux\.namespaces\[3\]\.path: must be an absolute path/);
    rejects((s) => (s.linux.namespaces = [{ type: 'pid' }]), /linux\.namespaces: a mount namespace is required/);
  });

  it('checks the document shape', () => {
    assert.throws(() => validateSpec([], bundle), /config.json: \(document\): must be an object, got an array/);
    rejects((s) => delete s.ociVersion, 'config.json: ociVersion: must be a string, got undefined');
    rejects((s) => (s.ociVersion = '2.0.0'), /unsupported version "2.0.0"/);
    rejects((s) => (s.root.path = 'missing'), /root.path: ".*\/missing" does not exist/);
    rejects((s) => (s.root.path = 'file'), /root.path: ".*\/file" is not a directory/);
    rejects((s) => (s.root.readonly = 'yes'), 'config.json: root.readonly: must be a boolean, got string "yes"');
  });

  it('checks the process', () => {
    rejects((s) => (s.process.cwd = 'relative'), 'config.json: process.cwd: must be an absolute path, got "relative"');
    rejects((s) => (s.process.args = []), 'config.json: process.args: must name the program to run');
    rejects((s) => (s.process.env = ['NOEQUALS']), 'config.json: process.env[0]: must be KEY=value, got "NOEQUALS"');
    rejects((s) => (s.process.args = ['sh', 'a\0b']), 'config.json: process.args[1]: must not contain a NUL character');
    rejects((s) => (s.process.user.uid = -1), /process\.user\.uid: -1 is out of range/);
    rejects((s) => (s.process.user.additionalGids = [1.5]), /process\.user\.additionalGids\[0\]: must be an integer/);
    rejects((s) => (s.process.capabilities.bounding = ['CAP_FLY']), 'config.json: process.capabilities.bounding[0]: unknown capability "CAP_FLY"');
    rejects((s) => s.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }), /rlimits\[1\]\.type: rlimit RLIMIT_NOFILE is listed twice/);
    rejects((s) => (s.process.rlimits[0].soft = 2048), /process\.rlimits\[0\]: soft limit 2048 is above the hard limit 1024/);
    rejects((s) => (s.process.rlimits[0].type = 'RLIMIT_FOO'), /unknown rlimit "RLIMIT_FOO"/);
    rejects((s) => (s.process.oomScoreAdj = -1001), /process\.oomScoreAdj: -1001 is out of range \[-1000, 1000\]/);
    rejects((s) => (s.process.consoleSize = { height: 1, width: 1 }), /process\.consoleSize: only valid with terminal: true/);
    rejects((s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_FAST', priority: 0 }), /process\.ioPriority\.class: unknown class "IOPRIO_CLASS_FAST"/);
    rejects((s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 9 }), /process\.ioPriority\.priority: 9 is out of range \[0, 7\]/);
    rejects((s) => (s.linux.personality = { domain: 'WIN32' }), /linux\.personality\.domain: unknown domain "WIN32"/);
  });

  it('checks cross-field rules', () => {
    rejects((s) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'uts')), /hostname: setting the hostname requires a uts namespace/);
    rejects((s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), /linux\.uidMappings: id mappings require a new user namespace/);
    rejects((s) => s.linux.namespaces.push({ type: 'user' }), /linux\.uidMappings: a new user namespace needs id mappings/);
    rejects((s) => (s.linux.sysctl = { 'kernel.panic': '1' }), /linux\.sysctl\.kernel\.panic: not a namespaced sysctl/);
    rejects((s) => (s.linux.sysctl = { 'net.ipv4.ip_forward': '1' }) && (s.linux.namespaces[3] = { type: 'cgroup' }), /requires a network namespace/);
    rejects((s) => (s.linux.timeOffsets = { monotonic: { secs: 1 } }), /linux\.timeOffsets: time offsets require a new time namespace/);
    rejects((s) => (s.linux.rootfsPropagation = 'sideways'), /linux\.rootfsPropagation: unknown propagation "sideways"/);
  });

  it('checks mounts and devices', () => {
    rejects((s) => (s.mounts[0].destination = 'proc'), 'config.json: mounts[0].destination: must be an absolute path, got "proc"');
    rejects((s) => delete s.mounts[1].source, /mounts\[1\]\.source: a bind mount needs a source/);
    rejects((s) => delete s.mounts[0].type, /mounts\[0\]\.type: required unless the mount is a bind mount/);
    rejects((s) => (s.mounts[1].options = ['bind', 'idmap']), /mounts\[1\]\.options\[1\]: mount option "idmap" is not supported/);
    rejects((s) => (s.linux.devices = [{ type: 'x', path: '/dev/x' }]), /linux\.devices\[0\]\.type: unknown device type "x"/);
    rejects((s) => (s.linux.devices = [{ type: 'c', path: '/etc/x', major: 1, minor: 1 }]), /devices must live under \/dev/);
    rejects((s) => (s.linux.devices = [{ type: 'c', path: '/dev/x', minor: 1 }]), /linux\.devices\[0\]\.major: must be an integer/);
  });

  it('checks seccomp and hooks', () => {
    rejects((s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_MAYBE' }), /linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_MAYBE"/);
    rejects(
      (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 7, value: 1, op: 'SCMP_CMP_EQ' }] }] }),
      /linux\.seccomp\.syscalls\[0\]\.args\[0\]\.index: 7 is out of range/,
    );
    rejects((s) => (s.hooks = { prestart: [{ path: 'rel' }] }), /hooks\.prestart\[0\]\.path: must be an absolute path/);
    rejects((s) => (s.hooks = { later: [] }), /hooks\.later: unknown hook point/);
  });
});

describe('validateProcess', () => {
  it('validates an exec process.json', () => {
    assert.throws(() => validateProcess({ user: { uid: 0, gid: 0 }, cwd: '/' }), /process\.json: process\.args: must name the program to run/);
    const p = { user: { uid: 0, gid: 0 }, cwd: '/', args: ['ls'] };
    assert.equal(validateProcess(p), p);
  });
});
