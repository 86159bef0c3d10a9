import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignColumns, parseTemplate } from './template.js';

const obj = { ID: 'abc', Names: 'web', State: { Status: 'running' }, LabelsMap: { team: 'x' }, N: null };

test('fields, nested fields, json, Label, upper/lower, escapes', () => {
  assert.equal(parseTemplate('{{.ID}} {{.Names}}').render(obj), 'abc web');
  assert.equal(parseTemplate('{{.State.Status}}').render(obj), 'running');
  assert.equal(parseTemplate('{{json .State}}').render(obj), '{"Status":"running"}');
  assert.equal(parseTemplate('{{json .}}').render({ a: 1 }), '{"a":1}');
  assert.equal(parseTemplate('{{.Label "team"}}').render(obj), 'x');
  assert.equal(parseTemplate('{{upper .Names}}').render(obj), 'WEB');
  assert.equal(parseTemplate('{{.ID}}\\t{{.Names}}').render(obj), 'abc\tweb');
  assert.equal(parseTemplate('{{.Missing}}').render(obj), '<no value>');
  assert.throws(() => parseTemplate('{{range .}}').render(obj), /unsupported action/);
});

test('table: headers and aligned columns', () => {
  const t = parseTemplate('table {{.ID}}\t{{.Names}}\t{{.RunningFor}}');
  assert.equal(t.table, true);
  assert.equal(t.header(), 'CONTAINER ID\tNAMES\tCREATED');
  assert.equal(alignColumns([t.header(), 'a\tb\tc']), 'CONTAINER ID   NAMES   CREATED\na              b       c\n');
});
