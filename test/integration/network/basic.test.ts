// Networks end to end: the default bridge (the default network), inspect's NetworkSettings, BERTH_BRIDGE=none, published ports on 127.0.0.1, name resolution on a
// user network, none / container: modes, and errors that change nothing.
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { cniSharedChains, leftovers, netEnv, veths, wget, type NetEnv } from './_env.js';

const { ready } = netEnv('basic');
let e: NetEnv;
let chainsBefore: string[];

function httpGet(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function until<T>(fn: () => Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

test('setup', async () => {
  e = await ready;
  chainsBefore = cniSharedChains();
});

test('the default network is the bridge (no --network, as docker): created on first use, an address, a default route, lo', async () => {
  const out = await e.ok(['run', '--rm', e.image, 'sh', '-c', 'ip -o -4 addr show; ip route']);
  await e.mark('bridge');
  assert.match(out, /lo\s+inet 127\.0\.0\.1\/8/);
  assert.match(out, /eth0\s+inet 10\.\d+\.\d+\.\d+\/24/);
  assert.match(out, /^default via 10\.\d+\.\d+\.1 dev eth0/m);
  const ls = await e.ok(['network', 'ls']);
  assert.match(ls, /bridge\s+bridge\s+local/);
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('berth inspect shows NetworkSettings as docker inspect does: address, gateway, MAC, ports, endpoint, sandbox', async () => {
  const id = await e.ok(['run', '-d', '-p', '127.0.0.1::80', '--expose', '90', e.image, 'sleep', '60']);
  const inside = await e.ok(['exec', id, 'sh', '-c', 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; ip route']);
  const [, ip, prefix] = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(inside) ?? [];
  const mac = /^([0-9a-f]{2}(:[0-9a-f]{2}){5})$/m.exec(inside)?.[1];
  const gw = /^default via (\S+)/m.exec(inside)?.[1];
  assert.ok(ip && mac && gw, inside);
  assert.equal(await e.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id]), ip);
  type Ep = { IPAddress: string; Gateway: string; MacAddress: string; IPPrefixLen: number; NetworkID: string; EndpointID: string };
  const [c] = JSON.parse(await e.ok(['inspect', id])) as { State: { Pid: number }; HostConfig: { NetworkMode: string }; NetworkSettings: Ep & { Ports: Record<string, { HostIp: string; HostPort: string }[] | null>; SandboxKey: string; Networks: Record<string, Ep> } }[];
  const ns = c.NetworkSettings;
  assert.equal(c.HostConfig.NetworkMode, 'default');
  assert.deepEqual([ns.Gateway, ns.MacAddress, ns.IPPrefixLen], [gw, mac, Number(prefix)]);
  assert.deepEqual(Object.keys(ns.Networks), ['bridge']);
  const br = ns.Networks.bridge;
  assert.deepEqual([br.IPAddress, br.Gateway, br.MacAddress, br.IPPrefixLen, br.EndpointID], [ip, gw, mac, Number(prefix), ns.EndpointID]);
  // the same network and endpoint ids as `network inspect`
  const [net] = JSON.parse(await e.ok(['network', 'inspect', 'bridge'])) as { Id: string; Containers: Record<string, { EndpointID: string }> }[];
  assert.equal(br.NetworkID, net.Id);
  assert.match(br.EndpointID, /^[0-9a-f]{64}$/);
  assert.equal(net.Containers[id].EndpointID, br.EndpointID);
  // Ports: the published one with its host port (as berth port), the exposed-only one null
  const hostPort = /127\.0\.0\.1:(\d+)/.exec(await e.ok(['port', id, '80']))?.[1];
  assert.deepEqual(ns.Ports, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: hostPort }], '90/tcp': null });
  // SandboxKey names the container's network namespace
  assert.equal(statSync(ns.SandboxKey).ino, statSync(`/proc/${c.State.Pid}/ns/net`).ino);
  assert.equal(await e.ok(['ps', '--format', '{{.Networks}} {{.Ports}}']), `bridge 127.0.0.1:${hostPort}->80/tcp`);
  // stopped: the network entry stays, without addresses (docker's view)
  await e.ok(['stop', '-t', '0', id]);
  const [stopped] = JSON.parse(await e.ok(['inspect', id])) as { NetworkSettings: Ep & { Networks: Record<string, Ep>; SandboxKey: string } }[];
  assert.deepEqual([stopped.NetworkSettings.IPAddress, stopped.NetworkSettings.SandboxKey, stopped.NetworkSettings.Networks.bridge.IPAddress], ['', '', '']);
  await e.ok(['rm', id]);
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('BERTH_BRIDGE=none or "bridge": "none" in <root>/config.json: the default is lo only (dockerd --bridge=none); a bad value is refused', async () => {
  const off = { ...e.env, BERTH_BRIDGE: 'none' };
  assert.equal(await e.ok(['run', '--rm', e.image, 'ls', '/sys/class/net'], { env: off }), 'lo');
  // as dockerd: the bridge asked for by name is off too; other networks are not
  assert.equal(await e.ok(['run', '--rm', '--network', 'bridge', e.image, 'ls', '/sys/class/net'], { env: off }), 'lo');
  await e.ok(['network', 'create', 'offnet']);
  await e.mark('offnet');
  assert.deepEqual((await e.ok(['run', '--rm', '--network', 'offnet', e.image, 'ls', '/sys/class/net'], { env: off })).split(/\s+/), ['eth0', 'lo']);
  await e.ok(['network', 'rm', 'offnet']);
  const cfg = join(e.root, 'config.json');
  writeFileSync(cfg, JSON.stringify({ bridge: 'none' }));
  try {
    const id = 'offcfg';
    await e.ok(['run', '--name', id, e.image, 'true']);
    const [c] = JSON.parse(await e.ok(['inspect', id])) as { HostConfig: { NetworkMode: string }; NetworkSettings: { IPAddress: string; Networks: Record<string, unknown> } }[];
    assert.deepEqual([c.HostConfig.NetworkMode, c.NetworkSettings.IPAddress, Object.keys(c.NetworkSettings.Networks)], ['default', '', ['none']]);
    assert.equal(await e.ok(['run', '--rm', e.image, 'ls', '/sys/class/net']), 'lo');
    await e.ok(['rm', id]);
    writeFileSync(cfg, JSON.stringify({ bridge: 'docker0' }));
    let r = await e.berth(['run', '--rm', e.image, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /config\.json: "bridge": "docker0" is not a valid value: only "none"/);
    r = await e.berth(['run', '--rm', e.image, 'true'], { env: { ...e.env, BERTH_BRIDGE: 'br0' } });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /BERTH_BRIDGE: "br0" is not a valid value/);
  } finally {
    rmSync(cfg, { force: true });
  }
  assert.equal(await e.ok(['ps', '-aq']), '');
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('a published port answers on the host 127.0.0.1; berth port shows it; rm releases it', async () => {
  const id = await e.ok(['run', '-d', '--network', 'bridge', '-p', '127.0.0.1::80', '-p', '18080:80', e.image, 'sh', '-c', 'echo hello-from-berth > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
  const ports = await e.ok(['port', id]);
  const m = /80\/tcp -> 127\.0\.0\.1:(\d+)/.exec(ports);
  assert.ok(m, ports);
  assert.match(ports, /80\/tcp -> 0\.0\.0\.0:18080/);
  assert.equal(await e.ok(['port', id, '80']), `127.0.0.1:${m[1]}\n0.0.0.0:18080`);
  assert.equal(await until(() => httpGet(Number(m[1]), '/index.html')), 'hello-from-berth\n');
  assert.equal(await until(() => httpGet(18080, '/index.html')), 'hello-from-berth\n');
  // the same host port again: a clear error, and nothing changes
  const r = await e.berth(['run', '--rm', '--network', 'bridge', '-p', '18080:81', e.image, 'true']);
  assert.equal(r.code, 125, r.stderr);
  assert.match(r.stderr, /18080.*already allocated/);
  assert.equal((await e.ok(['ps', '-aq'])).split('\n').length, 1);
  await e.ok(['rm', '-f', id]);
  await assert.rejects(httpGet(18080, '/index.html'));
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('two containers on a user network talk by name and alias', async () => {
  await e.ok(['network', 'create', '--label', 'team=net', 'appnet']);
  await e.mark('appnet');
  await e.ok(['run', '-d', '--name', 'web', '--network', 'appnet', '--network-alias', 'www', e.image, 'sh', '-c', 'echo by-name > /index.html; exec httpd -f -p 80 -h /']);
  const out = await e.ok(['run', '--rm', '--network', 'appnet', e.image, 'sh', '-c', `${wget('http://web/index.html').join(' ')} && ${wget('http://www/index.html').join(' ')} && cat /etc/hosts`]);
  assert.match(out, /^by-name\nby-name\n/);
  // a later container shows up in the earlier one's /etc/hosts
  await e.ok(['run', '-d', '--name', 'late', '--network', 'appnet', e.image, 'sleep', '60']);
  // (web serves its own / : its /etc/hosts is what its resolver reads)
  const hosts = await e.ok(['run', '--rm', '--network', 'appnet', e.image, ...wget('http://web/etc/hosts')]);
  assert.match(hosts, /^10\.\d+\.\d+\.\d+\tlate\b/m);
  const [insp] = JSON.parse(await e.ok(['network', 'inspect', 'appnet'])) as { Containers: Record<string, { Name: string }>; Labels: Record<string, string> }[];
  assert.deepEqual(Object.values(insp.Containers).map((c) => c.Name).sort(), ['late', 'web']);
  assert.deepEqual(insp.Labels, { team: 'net' });
  // busy network: rm refuses and changes nothing
  const r = await e.berth(['network', 'rm', 'appnet']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /active endpoints/);
  await e.ok(['rm', '-f', 'web', 'late']);
  await e.ok(['network', 'rm', 'appnet']);
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('--network none has only lo; container: shares the stack', async () => {
  const none = await e.ok(['run', '--rm', '--network', 'none', e.image, 'sh', '-c', 'ls /sys/class/net']);
  assert.deepEqual(none.split(/\s+/), ['lo']);
  const id = await e.ok(['run', '-d', '--name', 'stack', '--network', 'bridge', e.image, 'sleep', '60']);
  const a = await e.ok(['run', '--rm', '--network', 'container:stack', e.image, 'sh', '-c', 'ip -o -4 addr show eth0']);
  const own = /inet (\S+)/.exec(a)?.[1];
  assert.ok(own, a);
  const [insp] = JSON.parse(await e.ok(['network', 'inspect', 'bridge'])) as { Containers: Record<string, { IPv4Address: string }> }[];
  assert.equal(insp.Containers[id].IPv4Address, own);
  await e.ok(['rm', '-f', id]);
});

test('errors change nothing: unknown network, overlapping subnet, bad port, missing plugin', async () => {
  const before = await e.ok(['network', 'ls', '-q']);
  let r = await e.berth(['run', '--rm', '--network', 'nosuchnet', e.image, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /network nosuchnet not found/);
  await e.ok(['network', 'create', '--subnet', '10.124.7.0/24', 'one']);
  await e.mark('one');
  r = await e.berth(['network', 'create', '--subnet', '10.124.7.128/25', 'two']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /overlaps network "one"/);
  r = await e.berth(['network', 'create', '--subnet', '10.124.8.0/24', '--gateway', '10.124.9.1', 'three']);
  assert.match(r.stderr, /not a host address/);
  r = await e.berth(['run', '--rm', '--network', 'one', '-p', '99999:80', e.image, 'true']);
  assert.match(r.stderr, /invalid port specification/);
  r = await e.berth(['run', '--rm', '--network', 'one', '--ip', '10.200.0.5', e.image, 'true']);
  assert.match(r.stderr, /not in the subnet/);
  // a missing plugin: a plugin dir without portmap
  r = await e.berth(['run', '--rm', '--network', 'one', e.image, 'true'], { env: { ...e.env, BERTH_CNI_PATH: e.scope.mkdtemp('cni') } });
  assert.equal(r.code, 125);
  assert.match(r.stderr, /CNI plugin "bridge" not found .* install the Debian package containernetworking-plugins/);
  assert.equal(await e.ok(['ps', '-aq']), '');
  await e.ok(['network', 'rm', 'one']);
  assert.equal(await e.ok(['network', 'ls', '-q']), before);
  assert.deepEqual(leftovers(e.root, e.state), []);
});

test('--ip, --mac-address, --dns, --add-host, --hostname land in the container', async () => {
  await e.ok(['network', 'create', '--subnet', '10.124.20.0/24', 'fixed']);
  await e.mark('fixed');
  const out = await e.ok(['run', '--rm', '--network', 'fixed', '--ip', '10.124.20.77', '--mac-address', '02:42:ac:11:00:99', '--dns', '10.124.20.1', '--dns-search', 'example.test', '--add-host', 'db.test:10.124.20.5', '--hostname', 'box', e.image, 'sh', '-c', 'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; cat /etc/resolv.conf; cat /etc/hosts; hostname']);
  assert.match(out, /inet 10\.124\.20\.77\/24/);
  assert.match(out, /02:42:ac:11:00:99/);
  assert.match(out, /nameserver 10\.124\.20\.1\nsearch example\.test/);
  assert.match(out, /10\.124\.20\.5\tdb\.test/);
  assert.match(out, /10\.124\.20\.77\tbox/);
  assert.match(out, /\nbox$/);
  await e.ok(['network', 'rm', 'fixed']);
});

test('nothing left on the host: prune takes the last networks (and their pooled sandboxes), every veth, the shared CNI chains', async () => {
  await e.ok(['network', 'prune', '-f']);
  assert.equal(await e.ok(['network', 'ls', '-q']), '');
  assert.deepEqual(leftovers(e.root, e.state, { pool: true }), []);
  for (const [name, master] of veths()) assert.ok(!e.scope.matches.includes(master), `veth ${name} still on ${master}`);
  // other berth roots (tests running beside us) may still hold networks: then the chains stay
  const others = readdirSync('/sys/class/net').filter((l) => l.startsWith('berth'));
  if (!chainsBefore.length && !others.length) assert.deepEqual(cniSharedChains(), []);
});
