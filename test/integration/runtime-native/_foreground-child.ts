/**
 * Child for the foreground-terminal test: `run` without --detach and without a console
 * socket, so the helper relays the pty to this process's stdio (pipes set up by the test).
 */
import { launchContainer, releaseContainer } from '../../../src/runtime/launch.js';
import { validateSpec } from '../../../src/spec/validate.js';
import { makeBundle } from './_bundle.js';

const b = makeBundle();
try {
  b.spec.process!.terminal = true;
  b.spec.process!.args = ['sh', '-c', 'tty; read line; echo "got $line"; exit 3'];
  const l = await launchContainer({ id: 'fg', bundle: b.dir, spec: validateSpec(b.spec, b.dir), stateDir: b.stateDir, cgroupProcsFiles: [], foreground: true });
  await releaseContainer(b.stateDir, l.pid);
  const status = await l.wait!();
  process.stderr.write(`status ${status}\n`);
} finally {
  b.remove();
}
