import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceProgram } from './devices-bpf.js';
import type { DeviceCgroup } from '../../spec/runtime.js';

/**
 * A small interpreter for the instructions the generator emits, so the program's verdicts
 * can be checked without a kernel. Anything else it meets fails the test.
 */
function run(prog: Buffer, type: 'c' | 'b', major: number, minor: number, access: string): boolean {
  const acc = (access.includes('m') ? 1 : 0) | (access.includes('r') ? 2 : 0) | (access.includes('w') ? 4 : 0);
  const ctx = [((acc << 16) | (type === 'b' ? 1 : 2)) >>> 0, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10000; pc++, steps++) {
    const at = pc * 8;
    assert.ok(at < prog.length, 'ran off the end of the program');
    const code = prog.readUInt8(at);
    const dst = prog.readUInt8(at + 1) & 0xf;
    const src = prog.readUInt8(at + 1) >> 4;
    const off = prog.readInt16LE(at + 2);
    const imm = prog.readInt32LE(at + 4);
    switch (code) {
      case 0x61: assert.equal(src, 1); r[dst] = ctx[off / 4]; break;
      case 0x54: r[dst] = (r[dst] & imm) >>> 0; break;
      case 0x74: r[dst] = r[dst] >>> imm; break;
      case 0xbc: r[dst] = r[src] >>> 0; break;
      case 0xb7: r[dst] = imm; break;
      case 0x55: if (r[dst] !== imm >>> 0) pc += off; break;
      case 0x15: if (r[dst] === imm >>> 0) pc += off; break;
      case 0x95: return r[0] === 1;
      default: assert.fail(`unexpected opcode 0x${code.toString(16)}`);
    }
  }
  assert.fail('no exit');
}

const DEFAULTS: DeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
];

test('device program: a default allow-list', () => {
  const p = deviceProgram(DEFAULTS);
  assert.equal(run(p, 'c', 1, 3, 'rw'), true);
  assert.equal(run(p, 'c', 1, 5, 'r'), true);
  assert.equal(run(p, 'c', 1, 5, 'w'), false);
  assert.equal(run(p, 'c', 1, 5, 'rw'), false);
  assert.equal(run(p, 'c', 136, 7, 'rw'), true);
  assert.equal(run(p, 'c', 1, 7, 'r'), false);
  assert.equal(run(p, 'b', 8, 0, 'r'), false);
  assert.equal(run(p, 'b', 8, 0, 'm'), true);
  assert.equal(run(p, 'c', 10, 200, 'm'), true);
});

test('device program: no rules or allow-all allow everything; deny-all denies everything', () => {
  assert.equal(run(deviceProgram([]), 'b', 8, 0, 'rwm'), true);
  assert.equal(run(deviceProgram([{ allow: true, access: 'rwm' }]), 'c', 4, 1, 'w'), true);
  assert.equal(run(deviceProgram([{ allow: false }]), 'c', 1, 3, 'r'), false);
  // A later "a" resets what came before.
  assert.equal(run(deviceProgram([...DEFAULTS, { allow: true, type: 'a', access: 'rwm' }]), 'b', 8, 0, 'w'), true);
});

test('device program: the last matching rule wins, deny rules cover any requested bit', () => {
  const p = deviceProgram([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: null, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 9, access: 'w' },
  ]);
  assert.equal(run(p, 'c', 1, 3, 'rw'), true);
  assert.equal(run(p, 'c', 1, 9, 'r'), true);
  assert.equal(run(p, 'c', 1, 9, 'rw'), false);
  assert.equal(run(p, 'c', 1, 9, 'w'), false);
  assert.equal(run(p, 'b', 1, 3, 'r'), false);
  // Blacklist mode: default allow, one device denied.
  const q = deviceProgram([{ allow: false, type: 'b', major: 8, minor: 0, access: 'rwm' }]);
  assert.equal(run(q, 'b', 8, 0, 'r'), false);
  assert.equal(run(q, 'b', 8, 1, 'r'), true);
  assert.equal(run(q, 'c', 8, 0, 'r'), true);
});
