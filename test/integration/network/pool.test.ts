// The sandbox pool (docs/network.md): an exited container's namespace goes back to its network
// when nothing could have changed it, the next plain container claims it, two claimants never
// get one, a killed claimant loses nothing, and network rm / system prune / IPAM exhaustion
// drain it so that nothing of the network is left.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BERTH, leftovers, netEnv, poolIds, veths, type NetEnv } from './_env.js';

const { ready } = netEnv('pool');
let e: NetEnv;

interface NetInspect {
  Id: string;
  Options: Record<string, string>;
  IPAM: { Config: { Subnet: string; Gateway: string }[] };
  Containers: Record<string, { IPv4Address: string }>;
}

async function inspect(net: string): Promise<NetInspect> {
  return (JSON.parse(await e.ok(['network', 'inspect', net])) as NetInspect[])[0];
}

function eth0(out: string): string {
  const m = /eth0\s+inet (\d+\.\d+\.\d+\.\d+)\//.exec(out);
  assert.ok(m, out);
  return m[1];
}

/** Each pooled sandbox holds its lease (nothing half-returned). */
function poolLeases(): string[] {
  const ipam = join(e.root, 'network', 'ipam');
  const owners: string[] = [];
  for (const net of existsSync(ipam) ? readdirSync(ipam) : []) {
    for (const f of readdirSync(join(ipam, net))) if (/^\d+\.\d+\.\d+\.\d+$/.test(f)) owners.push(readFileSync(join(ipam, net, f), 'utf8').split(/\r?\n/)[0]);
  }
  return poolIds(e.state).filter((id) => owners.includes(id));
}

async function runDetached(n: number, net: string, extra: string[] = []): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, () => e.ok(['run', '-d', '--network', net, ...extra, e.image, 'sleep', '60'])));
}

function rulesOf(cniName: string): string[] {
  return execFileSync('iptables-save', [], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(cniName));
}

test('setup', async () => {
  e = await ready;
  await e.ok(['network', 'create', 'pl']);
  await e.mark('pl');
});

test('run --rm gives its sandbox back; the next container claims it (same address, lo, route); inspect shows no pooled one', async () => {
  const first = eth0(await e.ok(['run', '--rm', '--network', 'pl', e.image, 'ip', '-o', '-4', 'addr']));
  assert.equal(poolIds(e.state).length, 1);
  assert.deepEqual(poolLeases(), poolIds(e.state));
  const gw = (await inspect('pl')).IPAM.Config[0].Gateway;
  const out = await e.ok(['run', '--rm', '--network', 'pl', e.image, 'sh', '-c', `ip -o -4 addr; ip route; ping -c1 -W2 ${gw} >/dev/null && echo gateway-answers`]);
  assert.equal(eth0(out), first);
  assert.match(out, /lo\s+inet 127\.0\.0\.1\/8/);
  assert.match(out, new RegExp(`^default via ${gw.replace(/\./g, '\\.')} dev eth0`, 'm'));
  assert.match(out, /gateway-answers/);
  assert.deepEqual((await inspect('pl')).Containers, {});
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('recycled only when nothing could have changed it: NET_ADMIN, exec --privileged, net.* sysctl are deleted', async () => {
  assert.equal(poolIds(e.state).length, 1);
  // claims the pooled sandbox, changes it, and at exit it is deleted, not given back
  const out = await e.ok(['run', '--rm', '--cap-add', 'NET_ADMIN', '--network', 'pl', e.image, 'sh', '-c', 'ip addr add 10.99.77.1/32 dev eth0 && ip -o -4 addr show eth0']);
  assert.match(out, /10\.99\.77\.1/);
  assert.deepEqual(poolIds(e.state), []);
  const id = await e.ok(['run', '-d', '--network', 'pl', e.image, 'sleep', '60']);
  await e.ok(['exec', '--privileged', id, 'ip', 'addr', 'add', '10.99.77.2/32', 'dev', 'eth0']);
  await e.ok(['rm', '-f', id]);
  assert.deepEqual(poolIds(e.state), []);
  await e.ok(['run', '--rm', '--sysctl', 'net.ipv4.ping_group_range=0 0', '--network', 'pl', e.image, 'true']);
  assert.deepEqual(poolIds(e.state), []);
  assert.deepEqual(leftovers(e.root, e.state), []);
  // a plain one goes back, and what the others did is nowhere
  await e.ok(['run', '--rm', '--network', 'pl', e.image, 'true']);
  assert.equal(poolIds(e.state).length, 1);
  assert.doesNotMatch(await e.ok(['run', '--rm', '--network', 'pl', e.image, 'ip', '-o', '-4', 'addr']), /10\.99\.77/);
});

test('concurrent run -d: claims and fresh ADDs never share an address; rm fills the pool up to its bound (4); a lower bound shrinks it', async () => {
  for (let round = 0; round < 2; round++) {
    const ids = await runDetached(6, 'pl');
    const c = (await inspect('pl')).Containers;
    const ips = ids.map((id) => c[id]?.IPv4Address);
    assert.equal(ips.filter(Boolean).length, 6, JSON.stringify(c));
    assert.equal(new Set(ips).size, 6, `duplicate addresses: ${ips.join(' ')}`);
    assert.deepEqual(poolIds(e.state), [], 'every pooled sandbox was claimed');
    await e.ok(['rm', '-f', ...ids]);
    assert.equal(poolIds(e.state).length, 4);
    assert.deepEqual(poolLeases().sort(), poolIds(e.state).sort());
    assert.deepEqual(leftovers(e.root, e.state), []);
  }
  // a lower bound shrinks the pool at the next command (its reconcile drains the excess)
  await e.ok(['network', 'ls'], { env: { ...e.env, BERTH_NETNS_POOL: '1' } });
  assert.equal(poolIds(e.state).length, 1);
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('kill -9 of a claiming berth run: the next command gives the sandbox back or deletes it', async () => {
  for (let i = 0; i < 6; i++) {
    const child = spawn(BERTH, ['run', '--network', 'pl', e.image, 'sleep', '30'], { env: e.env, stdio: 'ignore' });
    // before, during and after the claim (a CLI start is ~100 ms here; the claim ~2 ms of it)
    await new Promise((r) => setTimeout(r, 60 + i * 25));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
  const ids = (await e.ok(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  if (ids.length) await e.ok(['rm', '-f', ...ids]);
  await e.ok(['network', 'ls']);
  assert.deepEqual(leftovers(e.root, e.state), []);
  assert.ok(poolIds(e.state).length <= 4);
  assert.deepEqual(poolLeases().sort(), poolIds(e.state).sort());
});

test('network rm drains the pool: no netns, lease, veth or iptables rule of it left', async () => {
  await e.ok(['run', '--rm', '--network', 'pl', e.image, 'true']);
  assert.ok(poolIds(e.state).length > 0);
  const n = await inspect('pl');
  const bridge = n.Options['com.docker.network.bridge.name'];
  await e.ok(['network', 'rm', 'pl']);
  assert.deepEqual(leftovers(e.root, e.state, { pool: true }), []);
  assert.deepEqual(rulesOf(`berth-${n.Id.slice(0, 12)}`), []);
  assert.deepEqual([...veths()].filter(([, master]) => master === bridge), []);
});

test('IPAM exhaustion drains the pool before failing', async () => {
  await e.ok(['network', 'create', '--subnet', '10.124.41.0/29', 'tiny']); // 5 addresses: .2-.6
  await e.mark('tiny');
  await e.ok(['rm', '-f', ...(await runDetached(4, 'tiny'))]);
  assert.equal(poolIds(e.state).length, 4);
  // a published port cannot use a pooled sandbox: the 5th address, then the pool gives one back
  const a = await e.ok(['run', '-d', '--network', 'tiny', '-p', '127.0.0.1::80', e.image, 'sleep', '60']);
  const b = await e.ok(['run', '-d', '--network', 'tiny', '-p', '127.0.0.1::80', e.image, 'sleep', '60']);
  const c = (await inspect('tiny')).Containers;
  assert.notEqual(c[a].IPv4Address, c[b].IPv4Address);
  assert.deepEqual(poolIds(e.state), []);
  await e.ok(['rm', '-f', a, b]);
  assert.deepEqual(leftovers(e.root, e.state, { pool: true }), []);
});

test('system prune drains every network\'s pool', async () => {
  await e.ok(['network', 'create', 'sp']);
  await e.mark('sp');
  await e.ok(['run', '--rm', '--network', 'sp', e.image, 'true']);
  await e.ok(['run', '--rm', '--network', 'tiny', e.image, 'true']);
  assert.equal(poolIds(e.state).length, 2);
  await e.ok(['system', 'prune', '-f']);
  assert.equal(await e.ok(['network', 'ls', '-q']), '');
  assert.deepEqual(leftovers(e.root, e.state, { pool: true }), []);
});
