import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bridgeDisabled, readRootConfig } from './root-config.js';

const root = mkdtempSync(join(tmpdir(), 'berth-rootcfg-'));
after(() => rmSync(root, { recursive: true, force: true }));
const write = (text: string) => writeFileSync(join(root, 'config.json'), text);

test('bridgeDisabled: BERTH_BRIDGE, then <root>/config.json "bridge"; only "none" is a value', () => {
  rmSync(join(root, 'config.json'), { force: true });
  assert.equal(bridgeDisabled(root, {}), false);
  assert.equal(bridgeDisabled(root, { BERTH_BRIDGE: 'none' }), true);
  assert.equal(bridgeDisabled(root, { BERTH_BRIDGE: '' }), false);
  write('{"bridge": "none", "usernsPoolStart": 300000}');
  assert.equal(bridgeDisabled(root, {}), true);
  assert.deepEqual(readRootConfig(root), { bridge: 'none', usernsPoolStart: 300000 });
  assert.throws(() => bridgeDisabled(root, { BERTH_BRIDGE: 'docker0' }), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /BERTH_BRIDGE: "docker0" is not a valid value/.test(e.message));
  write('{"bridge": "br0"}');
  assert.throws(() => bridgeDisabled(root, {}), /config\.json: "bridge": "br0" is not a valid value: only "none"/);
  // the environment wins over the file
  assert.equal(bridgeDisabled(root, { BERTH_BRIDGE: 'none' }), true);
  write('{"bridge": ');
  assert.throws(() => readRootConfig(root), /config\.json: not valid JSON/);
  write('[]');
  assert.throws(() => readRootConfig(root), /want a JSON object/);
});
