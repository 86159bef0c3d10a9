import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCidr, hostRoutes, overlaps, parseCidr, parseIp, pickSubnet } from './ipnet.js';
import { formatMapping, parsePublish } from './ports.js';
import { renderHosts, renderResolvConf } from './etc-files.js';
import { splitRule } from './host.js';

test('CIDR parsing refuses host bits and tiny networks; overlap both ways', () => {
  assert.equal(formatCidr(parseCidr('10.1.0.0/16')), '10.1.0.0/16');
  assert.throws(() => parseCidr('10.1.0.1/16'), /host bits are set \(did you mean 10\.1\.0\.0\/16\?\)/);
  assert.throws(() => parseCidr('10.1.0.0/31'), /at least a \/30/);
  assert.throws(() => parseCidr('10.1.0.0'), /invalid subnet/);
  assert.throws(() => parseIp('10.1.0.256'), /invalid IPv4/);
  assert.ok(overlaps(parseCidr('10.1.0.0/16'), parseCidr('10.1.7.0/24')));
  assert.ok(overlaps(parseCidr('10.1.7.0/24'), parseCidr('10.1.0.0/16')));
  assert.ok(!overlaps(parseCidr('10.1.7.0/24'), parseCidr('10.1.8.0/24')));
});

test('pickSubnet takes the first free /24 of 10.123/16', () => {
  assert.equal(formatCidr(pickSubnet([])), '10.123.0.0/24');
  assert.equal(formatCidr(pickSubnet([parseCidr('10.123.0.0/24'), parseCidr('10.123.1.0/25')])), '10.123.2.0/24');
  assert.throws(() => pickSubnet([parseCidr('10.123.0.0/16')]), /no free subnet/);
});

test('hostRoutes reads /proc/net/route (little-endian hex), skipping the default route', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  assert.deepEqual(hostRoutes(text).map(formatCidr), ['192.0.2.0/24']);
});

test('-p forms as docker spells them', () => {
  assert.deepEqual(parsePublish('80'), { hostIP: '', hostPort: 0, containerPort: 80, protocol: 'tcp' });
  assert.deepEqual(parsePublish('8080:80/udp'), { hostIP: '', hostPort: 8080, containerPort: 80, protocol: 'udp' });
  assert.deepEqual(parsePublish('127.0.0.1::80'), { hostIP: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' });
  assert.deepEqual(parsePublish('0.0.0.0:1:2'), { hostIP: '', hostPort: 1, containerPort: 2, protocol: 'tcp' });
  assert.throws(() => parsePublish('99999:80'), /host port "99999" is not a port number/);
  assert.throws(() => parsePublish('80/icmp'), /unknown protocol/);
  assert.throws(() => parsePublish('8000-8001:80'), /ranges are not supported/);
  assert.equal(formatMapping({ hostIP: '', hostPort: 32768, containerPort: 80, protocol: 'tcp' }), '80/tcp -> 0.0.0.0:32768');
});

test('hosts and resolv.conf', () => {
  const h = renderHosts('box', ['10.1.0.2'], [{ ip: '10.1.0.3', names: ['web', 'www', 'web'] }], ['db.test:10.1.0.9']);
  assert.match(h, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(h, /^10\.1\.0\.9\tdb\.test$/m);
  assert.match(h, /^10\.1\.0\.2\tbox$/m);
  assert.match(h, /^10\.1\.0\.3\tweb www$/m);
  assert.match(renderHosts('box', [], [], []), /^127\.0\.1\.1\tbox$/m);
  const host = 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch corp.test\noptions ndots:2\n';
  assert.equal(renderResolvConf({ dns: [], dnsSearch: [], dnsOptions: [] }, host), 'nameserver 192.0.2.53\nsearch corp.test\noptions ndots:2\n');
  assert.equal(renderResolvConf({ dns: ['10.0.0.1'], dnsSearch: ['a.test'], dnsOptions: [] }, host), 'nameserver 10.0.0.1\nsearch a.test\noptions ndots:2\n');
});

test('iptables -S lines split with their quoted comments', () => {
  assert.deepEqual(splitRule('-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ'), [
    '-A', 'POSTROUTING', '-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ',
  ]);
  assert.deepEqual(splitRule('-A X -m comment --comment "name: \\"n\\" id: \\"c\\"" -j Y'), ['-A', 'X', '-m', 'comment', '--comment', 'name: "n" id: "c"', '-j', 'Y']);
});
