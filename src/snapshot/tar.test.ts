import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TarReader, type TarHeader } from './tar.js';

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}
function block(name: string, typeflag: string, size: number, mode = 0o644): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write(octal(mode, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(1700000000, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(typeflag, 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}
function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function read(archive: Buffer, chunkSize: number): { headers: TarHeader[]; data: string[] } {
  const headers: TarHeader[] = [];
  const data: string[] = [];
  let cur: Buffer[] = [];
  const r = new TarReader({
    entry: (h) => headers.push(h),
    data: (c) => cur.push(Buffer.from(c)),
    end: () => {
      data.push(Buffer.concat(cur).toString());
      cur = [];
    },
  });
  for (let i = 0; i < archive.length; i += chunkSize) r.push(archive.subarray(i, i + chunkSize));
  r.finish();
  return { headers, data };
}

describe('TarReader', () => {
  // security.capability v2 for cap_setuid+ep: the bitmask byte 0x80 is not valid UTF-8 alone.
  const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const pax = Buffer.concat([paxRecord('SCHILY.xattr.security.capability', cap), paxRecord('path', Buffer.from('long/'.repeat(30) + 'name'))]);
  const archive = Buffer.concat([
    block('PaxHeader', 'x', pax.length),
    padded(pax),
    block('short', '0', 5, 0o4755),
    padded(Buffer.from('hello')),
    block('d/', '5', 0, 0o1777),
    Buffer.alloc(1024),
  ]);

  for (const size of [1, 7, 512, 100000]) {
    it(`reads PAX paths and binary xattrs intact, in chunks of ${size}`, () => {
      const { headers, data } = read(archive, size);
      assert.equal(headers.length, 2);
      assert.equal(headers[0].name, 'long/'.repeat(30) + 'name');
      assert.equal(headers[0].mode, 0o4755);
      assert.deepEqual(headers[0].xattrs?.get('security.capability'), cap);
      assert.equal(data[0], 'hello');
      assert.equal(headers[1].type, 'dir');
      assert.equal(headers[1].mode, 0o1777);
      assert.equal(headers[1].xattrs, null);
    });
  }

  it('rejects a corrupt header and a truncated archive', () => {
    const corrupt = Buffer.from(archive);
    corrupt[1024 + 10] ^= 0x01;
    assert.throws(() => read(corrupt, 512), /checksum/);
    assert.throws(() => read(archive.subarray(0, 1024 + 512 + 3), 512), /unexpected end/);
  });
});

describe('TarReader header forms', () => {
  it('reads GNU long names and links, and base-256 sizes', () => {
    const long = `${'n'.repeat(150)}/file`;
    const target = `${'t'.repeat(120)}/target`;
    const longName = Buffer.from(`${long}\0`);
    const longLink = Buffer.from(`${target}\0`);
    const content = Buffer.from('base-256 sized');
    const fileBlock = block('short-name', '0', 0);
    // size field in base-256: 0x80 marker, then the big-endian value.
    fileBlock.fill(0, 124, 136);
    fileBlock[124] = 0x80;
    fileBlock[135] = content.length;
    fileBlock.write('        ', 148, 'latin1');
    let sum = 0;
    for (const b of fileBlock) sum += b;
    fileBlock.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    const archive = Buffer.concat([
      block('././@LongLink', 'L', longName.length),
      padded(longName),
      fileBlock,
      padded(content),
      block('././@LongLink', 'K', longLink.length),
      padded(longLink),
      block('short-link', '2', 0),
      Buffer.alloc(1024),
    ]);
    const { headers, data } = read(archive, 100);
    assert.equal(headers[0].name, long);
    assert.equal(headers[0].size, content.length);
    assert.equal(data[0], 'base-256 sized');
    assert.equal(headers[1].type, 'symlink');
    assert.equal(headers[1].name, 'short-link');
    assert.equal(headers[1].linkname, target);
  });
});
