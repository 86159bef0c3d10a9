import assert from 'node:assert/strict';
import { test } from 'node:test';
import { masqueradeChain } from './host.js';

test('masqueradeChain names the chain as the bridge plugin 1.1.1 did on this machine', () => {
  // seen in `iptables -t nat -S` after a CNI ADD of the Debian bridge plugin (ipMasq: true)
  assert.equal(masqueradeChain('berth-9cf5dbb2cf64', '2e777e5190012862e592089cd365567facb9b7a7116f1c80fca5c18a2ddc3fb1'), 'CNI-2c91f271f4818c8f0be9ed70');
  assert.equal(masqueradeChain('n', 'a').length, 28);
});
