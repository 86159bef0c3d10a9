import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeFrame, encodeResize, FRAME, FrameDecoder } from './frame.js';

describe('attach framing', () => {
  it('uses docker\'s 8-byte header', () => {
    const f = encodeFrame(FRAME.stdout, Buffer.from('hi'));
    assert.deepEqual([...f], [1, 0, 0, 0, 0, 0, 0, 2, 0x68, 0x69]);
    assert.deepEqual([...encodeResize(24, 80)], [16, 0, 0, 0, 0, 0, 0, 4, 0, 24, 0, 80]);
  });

  it('decodes frames split and joined at any byte', () => {
    const wire = Buffer.concat([encodeFrame(FRAME.stdout, Buffer.from('abc')), encodeFrame(FRAME.exit), encodeFrame(FRAME.stderr, Buffer.alloc(70000, 7))]);
    for (const step of [1, 3, 8, 11, 4096, wire.length]) {
      const d = new FrameDecoder();
      const got: { type: number; payload: Buffer }[] = [];
      for (let i = 0; i < wire.length; i += step) got.push(...d.push(wire.subarray(i, i + step)));
      assert.deepEqual(got.map((f) => [f.type, f.payload.length]), [[1, 3], [21, 0], [2, 70000]], `step ${step}`);
      assert.equal(got[0].payload.toString(), 'abc');
    }
  });
});
