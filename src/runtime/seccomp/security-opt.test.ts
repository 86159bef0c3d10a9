import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBerthError } from '../../errors/index.js';
import { dockerDefaultProfile } from './docker-default.js';
import { seccompForContainer } from './security-opt.js';

const caps = ['CAP_CHOWN', 'CAP_KILL'];
const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_KILL'] } }] };
const want = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };

describe('seccompForContainer (--security-opt seccomp=...)', () => {
  it("gives docker's default profile without an option and for builtin", () => {
    const d = dockerDefaultProfile({ capabilities: caps, arch: 'x86_64', kernel: '6.1' });
    assert.deepEqual(seccompForContainer({ capabilities: caps, arch: 'x86_64', kernel: '6.1' }), d);
    assert.deepEqual(seccompForContainer({ securityOpt: ['no-new-privileges', 'seccomp=builtin'], capabilities: caps, arch: 'x86_64', kernel: '6.1' }), d);
  });
  it('turns seccomp off for unconfined and for --privileged without a profile', () => {
    assert.equal(seccompForContainer({ securityOpt: ['seccomp=unconfined'], capabilities: caps }), undefined);
    assert.equal(seccompForContainer({ securityOpt: ['seccomp:unconfined'], capabilities: caps }), undefined);
    assert.equal(seccompForContainer({ capabilities: caps, privileged: true }), undefined);
  });
  it('takes a profile as JSON text or as a path, resolved for the capabilities, also when privileged', () => {
    assert.deepEqual(seccompForContainer({ securityOpt: [`seccomp=${JSON.stringify(profile)}`], capabilities: caps }), want);
    const files: Record<string, string> = { '/p.json': JSON.stringify(profile) };
    const readFile = (p: string) => {
      if (!(p in files)) throw Object.assign(new Error('nope'), { code: 'ENOENT', syscall: 'open', path: p });
      return files[p];
    };
    assert.deepEqual(seccompForContainer({ securityOpt: ['seccomp=/p.json'], capabilities: caps, privileged: true, readFile }), want);
    assert.deepEqual(seccompForContainer({ securityOpt: ['seccomp=/p.json'], capabilities: [], readFile }), { defaultAction: 'SCMP_ACT_ALLOW' });
    assert.throws(
      () => seccompForContainer({ securityOpt: ['seccomp=/missing.json'], capabilities: caps, readFile }),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /--security-opt seccomp=\/missing.json: read the profile: open "\/missing.json"/.test(e.message),
    );
    assert.throws(
      () => seccompForContainer({ securityOpt: ['seccomp={"defaultAction": '], capabilities: caps }),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /seccomp=<profile JSON>: the profile is not valid JSON/.test(e.message),
    );
    assert.throws(
      () => seccompForContainer({ securityOpt: ['seccomp={"defaultAction": 5}'], capabilities: caps }),
      (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /seccomp=<profile JSON>: seccomp profile: defaultAction: must be a string/.test(e.message),
    );
  });
});
