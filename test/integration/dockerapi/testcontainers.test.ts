import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerEnv } from './_daemon.js';

const { ready } = dockerEnv('tc');

test('testcontainers: busybox httpd through berth daemon, log wait, exposed port, a page', async () => {
  const e = await ready;
  // testcontainers reads its settings from the environment when first loaded
  process.env.DOCKER_HOST = e.dockerHost;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  const { GenericContainer, Wait } = await import('testcontainers');
  const c = await new GenericContainer(e.image)
    .withCommand(['sh', '-c', 'echo hello-testcontainers > /tmp/index.html; echo serving; exec httpd -f -vv -p 80 -h /tmp'])
    .withExposedPorts(80)
    .withWaitStrategy(Wait.forAll([Wait.forLogMessage('serving'), Wait.forListeningPorts()]))
    .withStartupTimeout(30_000)
    .start();
  try {
    const port = c.getMappedPort(80);
    assert.ok(port > 0);
    const r = await fetch(`http://127.0.0.1:${port}/index.html`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'hello-testcontainers\n');
  } finally {
    await c.stop();
  }
});
