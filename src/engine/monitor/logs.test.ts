import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { followLogs, logFiles, parseLogLine, sinceMs } from './logs.js';
import { runtimeMessage } from './runtime-error.js';

const entry = (log: string, stream: string, time: string) => JSON.stringify({ log, stream, time });

describe('json-file log reading', () => {
  it('parses entries, partial lines and foreign lines', () => {
    assert.deepEqual(parseLogLine(entry('a "q"\n', 'stderr', '2026-01-01T00:00:00.000000001Z')), {
      stream: 'stderr',
      line: 'a "q"',
      time: '2026-01-01T00:00:00.000000001Z',
      partial: false,
    });
    assert.equal(parseLogLine(entry('no newline', 'stdout', 't'))?.partial, true);
    assert.equal(parseLogLine('{"log":"torn'), undefined);
    assert.equal(parseLogLine('{"other":1}'), undefined);
  });

  it('reads rotated files oldest first; tail, since and timestamps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-logs-unit-'));
    try {
      const log = join(dir, 'c.log');
      const t = (s: number) => `2026-01-01T00:00:0${s}.500000000Z`;
      writeFileSync(`${log}.2`, entry('1\n', 'stdout', t(1)) + '\n');
      writeFileSync(`${log}.1`, entry('2\n', 'stderr', t(2)) + '\n' + entry('3\n', 'stdout', t(3)) + '\n');
      writeFileSync(log, entry('4\n', 'stdout', t(4)) + '\n' + entry('5', 'stdout', t(5)) + '\n');
      writeFileSync(join(dir, 'c.log.bak'), 'not ours');
      assert.deepEqual(logFiles(log), [`${log}.2`, `${log}.1`, log]);
      const read = async (o: Parameters<typeof followLogs>[1]) => {
        const out: string[] = [];
        for await (const e of followLogs(log, o)) out.push(e.line);
        return out;
      };
      assert.deepEqual(await read({}), ['1', '2', '3', '4', '5']);
      assert.deepEqual(await read({ tail: 2 }), ['4', '5']);
      assert.deepEqual(await read({ tail: 0 }), []);
      assert.deepEqual(await read({ since: t(3) }), ['3', '4', '5']);
      assert.deepEqual(await read({ since: Date.parse(t(4)) / 1000 }), ['4', '5']);
      assert.deepEqual(await read({ tail: 1, timestamps: true }), [`${t(5)} 5`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a log larger than one read batch, multi-byte characters intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-logs-unit-'));
    try {
      const log = join(dir, 'big.log');
      const lines: string[] = [];
      for (let i = 0; i < 30000; i++) lines.push(entry(`é${i}€\n`, 'stdout', '2026-01-01T00:00:00Z'));
      writeFileSync(log, lines.join('\n') + '\n');
      let n = 0;
      for await (const e of followLogs(log)) {
        assert.equal(e.line, `é${n}€`);
        n++;
      }
      assert.equal(n, 30000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('follows across several rotations between two polls, losing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-logs-unit-'));
    const ac = new AbortController();
    try {
      const log = join(dir, 'c.log');
      const line = (s: string) => entry(`${s}\n`, 'stdout', '2026-01-01T00:00:00Z') + '\n';
      writeFileSync(log, line('e1'));
      const it = followLogs(log, { follow: true, pollMs: 100, signal: ac.signal })[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.line, 'e1');
      const pending = it.next(); // the reader now sleeps between polls
      appendFileSync(log, line('e1b'));
      const rotate = (content: string) => {
        for (let i = 3; i >= 1; i--) {
          try {
            renameSync(i === 1 ? log : `${log}.${i - 1}`, `${log}.${i}`);
          } catch {
            /* not there yet */
          }
        }
        writeFileSync(log, content);
      };
      rotate(line('e2'));
      rotate(line('e3'));
      rotate(line('e4'));
      const got = [(await pending).value?.line];
      for (let i = 0; i < 3; i++) got.push((await it.next()).value?.line);
      assert.deepEqual(got, ['e1b', 'e2', 'e3', 'e4']);
      ac.abort();
      assert.equal((await it.next()).done, true);
    } finally {
      ac.abort();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a since that is not a time', () => {
    assert.throws(() => sinceMs('yesterday'), /not a time/);
    assert.equal(sinceMs('1700000000.5'), 1700000000500);
  });
});

describe('runtime messages', () => {
  it('takes the last error of the runtime\'s JSON log, else its output, else the summary', () => {
    const runtimeLog =
      '{"level":"warning","msg":"w","time":"t"}\n{"level":"error","msg":"first","time":"t"}\n{"level":"error","msg":"runc create failed: boom","time":"t"}\n';
    assert.equal(runtimeMessage({ error: 'create: exit status 1', runtimeLog }), 'runc create failed: boom');
    assert.equal(runtimeMessage({ error: 'create: exit status 1', output: 'line1\nbad thing\n' }), 'line1; bad thing');
    assert.equal(runtimeMessage({ error: 'create: exit status 1', output: '', runtimeLog: '' }), 'create: exit status 1');
  });
});
