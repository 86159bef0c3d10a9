import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBerthError } from '../errors/index.js';
import { closeDatabases } from '../util/sqlite.js';
import { sha256 } from './digest.js';
import { ContentStore } from './store.js';

function withStore(fn: (s: ContentStore, root: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-content-test-'));
    try {
      await fn(new ContentStore(root), root);
    } finally {
      closeDatabases();
      rmSync(root, { recursive: true, force: true });
    }
  };
}

const data = Buffer.from('hello, content store\n'.repeat(1000));
const want = { digest: sha256(data), size: data.length };

test(
  'a verified ingest becomes content; a second one finds it',
  withStore(async (s) => {
    assert.equal(await s.ingest(want, async (w) => w.write(data)), 'committed');
    assert.deepEqual(readFileSync(s.path(want.digest)), data);
    assert.equal(await s.ingest(want, async () => assert.fail('must not fetch again')), 'exists');
    assert.deepEqual(s.list(), [want.digest]);
  }),
);

test(
  'wrong digest, short and long content are refused and leave nothing',
  withStore(async (s, root) => {
    const wrong = Buffer.from(data);
    wrong[5] ^= 1;
    await assert.rejects(s.ingest(want, (w) => w.write(wrong)), (e: unknown) => isBerthError(e, 'INVALID_ARGUMENT') && /digest mismatch/.test((e as Error).message));
    await assert.rejects(s.ingest(want, (w) => w.write(data.subarray(1))), /got \d+ bytes/);
    await assert.rejects(s.ingest(want, (w) => w.write(Buffer.concat([data, Buffer.from('x')]))), /more data than/);
    assert.deepEqual(s.list(), []);
    assert.deepEqual(readdirSync(join(root, 'content/ingest')), []);
  }),
);

test(
  'an interrupted ingest keeps its bytes and the next one resumes from the offset',
  withStore(async (s) => {
    await assert.rejects(
      s.ingest(want, async (w) => {
        await w.write(data.subarray(0, 5000));
        throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      }),
      /connection reset/,
    );
    let offset = -1;
    assert.equal(
      await s.ingest(want, async (w) => {
        offset = w.offset;
        await w.write(data.subarray(w.offset));
      }),
      'committed',
    );
    assert.equal(offset, 5000);
    assert.ok(existsSync(s.path(want.digest)));
  }),
);

test(
  'two concurrent ingests of one blob: one writes, the other waits and finds it',
  withStore(async (s) => {
    let writes = 0;
    const fill = async (w: { write(c: Uint8Array): Promise<void> }) => {
      writes++;
      await new Promise((r) => setTimeout(r, 50));
      await w.write(data);
    };
    const results = await Promise.all([s.ingest(want, fill), s.ingest(want, fill)]);
    assert.deepEqual(results.sort(), ['committed', 'exists']);
    assert.equal(writes, 1);
  }),
);
