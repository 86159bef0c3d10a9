import assert from 'node:assert/strict';
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import Docker from 'dockerode';
import { dockerEnv } from './_daemon.js';

const { ready } = dockerEnv('dockerode');

const client = async () => new Docker({ socketPath: (await ready).daemon.socket });

/** Raw HTTP on the socket, for what a well-behaved client never sends. */
function raw(socket: string, method: string, path: string, body?: string): Promise<{ status: number; json: { message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data.startsWith('{') ? JSON.parse(data) : {} }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (let i = 0; i + 8 <= buf.length; ) {
    const n = buf.readUInt32BE(i + 4);
    const s = buf.subarray(i + 8, i + 8 + n).toString();
    if (buf[i] === 1) out.stdout += s;
    else if (buf[i] === 2) out.stderr += s;
    i += 8 + n;
  }
  return out;
}

test('dockerode: ping, version, info', async () => {
  const d = await client();
  assert.equal(String(await d.ping()), 'OK');
  const v = await d.version();
  assert.equal(v.Os, 'linux');
  assert.ok(v.ApiVersion);
  const i = await d.info();
  assert.equal(typeof i.NCPU, 'number');
});

test('dockerode: pull with the progress stream, list and inspect images', async () => {
  const e = await ready;
  const d = await client();
  const stream = await d.pull(e.image);
  const events: { status?: string; error?: string }[] = await new Promise((res, rej) => d.modem.followProgress(stream, (err: Error | null, out: { status?: string; error?: string }[]) => (err ? rej(err) : res(out))));
  assert.ok(events.some((x) => x.status?.startsWith('Digest: sha256:')), JSON.stringify(events));
  assert.ok(!events.some((x) => x.error));
  const list = await d.listImages();
  assert.ok(list.some((i) => i.RepoTags?.includes(e.image)));
  const img = await d.getImage(e.image).inspect();
  assert.match(img.Id, /^sha256:/);
  const missing = await d.getImage('nope/nothing:1').inspect().catch((err: { statusCode: number; json: { message: string } }) => err);
  assert.equal((missing as { statusCode: number }).statusCode, 404);
});

test('dockerode: create, attach, start, wait, logs, inspect, remove', async () => {
  const e = await ready;
  const d = await client();
  const c = await d.createContainer({ Image: e.image, Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 7'], name: e.scope.uid('dn') });
  const stream = await c.attach({ stream: true, stdout: true, stderr: true, hijack: true });
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  const ended = new Promise((r) => stream.on('end', r));
  const waited = c.wait({ condition: 'next-exit' });
  await c.start();
  assert.equal((await waited).StatusCode, 7);
  await ended;
  assert.deepEqual(demux(Buffer.concat(chunks)), { stdout: 'out\n', stderr: 'err\n' });
  const logs = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  assert.deepEqual(demux(logs), { stdout: 'out\n', stderr: 'err\n' });
  const info = await c.inspect();
  assert.equal(info.State.ExitCode, 7);
  assert.equal(info.State.Status, 'exited');
  await c.remove();
  const gone = await c.inspect().catch((err: { statusCode: number }) => err);
  assert.equal((gone as { statusCode: number }).statusCode, 404);
});

test('dockerode: a TTY container logs raw bytes; listContainers filters by label and status', async () => {
  const e = await ready;
  const d = await client();
  const label = e.scope.uid('lbl');
  const c = await d.createContainer({ Image: e.image, Cmd: ['sh', '-c', 'echo tty-out; sleep 30'], Tty: true, Labels: { [label]: 'yes' } });
  await c.start();
  const running = await d.listContainers({ filters: { label: [`${label}=yes`], status: ['running'] } });
  assert.deepEqual(running.map((x) => x.Id), [c.id]);
  await new Promise((r) => setTimeout(r, 300));
  const logs = (await c.logs({ stdout: true, follow: false })) as unknown as Buffer;
  assert.equal(logs.toString().replace(/\r/g, ''), 'tty-out\n');
  await c.kill();
  await c.wait();
  assert.deepEqual(await d.listContainers({ filters: { label: [label] } }), []);
  assert.equal((await d.listContainers({ all: true, filters: { label: [label] } })).length, 1);
  await c.remove({ v: true });
});

test('dockerode: volumes create, list, inspect, remove, prune', async () => {
  const e = await ready;
  const d = await client();
  const name = e.scope.uid('v');
  await d.createVolume({ Name: name, Labels: { t: '1' } });
  const v = await d.getVolume(name).inspect();
  assert.equal(v.Name, name);
  assert.deepEqual(v.Labels, { t: '1' });
  const list = await d.listVolumes();
  assert.ok(list.Volumes.some((x) => x.Name === name));
  await d.getVolume(name).remove();
  const gone = await d.getVolume(name).inspect().catch((err: { statusCode: number }) => err);
  assert.equal((gone as { statusCode: number }).statusCode, 404);
});

test('dockerode: save and load an image', async () => {
  const e = await ready;
  const d = await client();
  const tarStream = await d.getImage(e.image).get();
  const chunks: Buffer[] = [];
  for await (const c of tarStream) chunks.push(c as Buffer);
  const other = e.image.replace(/busybox:latest$/, 'dn-saved:1');
  await d.getImage(e.image).tag({ repo: other.replace(/:1$/, ''), tag: '1' });
  await d.getImage(other).remove();
  const body = new PassThrough();
  body.end(Buffer.concat(chunks));
  const out = await d.loadImage(body);
  for await (const _ of out) void _;
  assert.ok((await d.listImages()).some((i) => i.RepoTags?.includes(e.image)));
});

test('malformed requests are 400 with a message; the daemon keeps serving', async () => {
  const e = await ready;
  const s = e.daemon.socket;
  let r = await raw(s, 'POST', '/containers/create', '{"Image": ');
  assert.equal(r.status, 400);
  assert.match(r.json.message ?? '', /invalid JSON/);
  r = await raw(s, 'POST', '/containers/create', JSON.stringify({ Image: e.image, Bogus: 1 }));
  assert.equal(r.status, 400);
  assert.match(r.json.message ?? '', /unknown field "Bogus"/);
  r = await raw(s, 'POST', '/containers/create', JSON.stringify({ Image: e.image, HostConfig: { Memory: 'lots' } }));
  assert.equal(r.status, 400);
  assert.match(r.json.message ?? '', /HostConfig.Memory/);
  r = await raw(s, 'POST', '/containers/create', '[]');
  assert.equal(r.status, 400);
  r = await raw(s, 'GET', '/v9.99/version');
  assert.equal(r.status, 400);
  assert.match(r.json.message ?? '', /too new/);
  r = await raw(s, 'GET', '/no/such/endpoint');
  assert.equal(r.status, 404);
  r = await raw(s, 'POST', '/containers/nope/start');
  assert.equal(r.status, 404);
  assert.equal(r.json.message, 'No such container: nope');
  assert.equal((await raw(s, 'GET', '/_ping')).status, 200);
  // nothing half-made stayed behind
  assert.equal(await e.ok(['ps', '-aq']), '');
});

test('50 parallel create/start/rm keep the store consistent', async () => {
  const e = await ready;
  const d = await client();
  const label = e.scope.uid('par');
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const c = await d.createContainer({ Image: e.image, Cmd: ['true'], name: `${label}-${i}`, Labels: { [label]: '1' } });
      await c.start();
      await c.wait();
      await c.remove({ force: true });
    }),
  );
  assert.deepEqual(await d.listContainers({ all: true, filters: { label: [label] } }), []);
  assert.equal(await e.ok(['ps', '-aq', '--filter', `label=${label}`]), '');
});

test('the socket is mode 0660 owned by root', async () => {
  const e = await ready;
  const { statSync } = await import('node:fs');
  const st = statSync(e.daemon.socket);
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.uid, 0);
  assert.equal(st.gid, 0);
});
