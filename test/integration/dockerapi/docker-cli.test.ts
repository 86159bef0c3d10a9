import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { execPty } from '../../harness/index.js';
import { DOCKER, dockerEnv, startDaemon } from './_daemon.js';

const { ready } = dockerEnv('cli');

test('docker version negotiates with berth daemon', async () => {
  const e = await ready;
  const out = await e.dockerOk(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
  assert.match(out, /^1\.\d+ linux$/);
});

test('docker run --rm prints the output and exits with the status', async () => {
  const e = await ready;
  const r = await e.docker(['run', '--rm', e.image, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.stdout, 'out\n', r.stderr);
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.code, 3);
  assert.equal(await e.dockerOk(['ps', '-aq']), '');
});

test('docker pull, images, inspect, tag, rmi', async () => {
  const e = await ready;
  const out = await e.dockerOk(['pull', e.image]);
  assert.match(out, /Digest: sha256:[0-9a-f]{64}/);
  assert.match(out, /Status: Image is up to date/);
  const images = await e.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.ok(images.split('\n').includes(e.image), images);
  const id = await e.dockerOk(['image', 'inspect', '--format', '{{.Id}}', e.image]);
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const other = e.image.replace(/busybox:latest$/, 'copy:v1');
  await e.dockerOk(['tag', e.image, other]);
  assert.equal(await e.dockerOk(['image', 'inspect', '--format', '{{.Id}}', other]), id);
  assert.match(await e.dockerOk(['rmi', other]), /Untagged: /);
  const r = await e.docker(['image', 'inspect', other]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /No such image/);
});

test('docker run -d, logs -f, ps --format, inspect, stop, rm', async () => {
  const e = await ready;
  const name = e.scope.uid('web');
  const id = await e.dockerOk(['run', '-d', '--name', name, e.image, 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']);
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await e.dockerOk(['ps', '--format', '{{.Names}} {{.Image}} {{.State}}']);
  assert.ok(ps.split('\n').includes(`${name} ${e.image} running`), ps);
  const state = await e.dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.Name}}', name]);
  assert.equal(state, `running true /${name}`);
  const logs = e.docker(['logs', '-f', name]);
  await new Promise((r) => setTimeout(r, 300));
  await e.dockerOk(['stop', '-t', '5', name]);
  const l = await logs;
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stdout, 'started\nbye\n');
  assert.equal(await e.dockerOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]), 'exited 0');
  assert.equal(await e.dockerOk(['rm', name]), name);
  const gone = await e.docker(['inspect', name]);
  assert.match(gone.stderr, /No such object|No such container/);
});

test('errors: a missing container is 404 with docker wording, a running one cannot be removed', async () => {
  const e = await ready;
  const r = await e.docker(['stop', 'nope-not-here']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /No such container: nope-not-here/);
  const name = e.scope.uid('busy');
  await e.dockerOk(['run', '-d', '--name', name, e.image, 'sleep', '60']);
  const rm = await e.docker(['rm', name]);
  assert.notEqual(rm.code, 0);
  assert.match(rm.stderr, /cannot remove container .*running/i);
  await e.dockerOk(['rm', '-f', name]);
});

test('docker volume create, ls, run with it, rm', async () => {
  const e = await ready;
  const vol = e.scope.uid('vol');
  await e.dockerOk(['volume', 'create', vol]);
  assert.ok((await e.dockerOk(['volume', 'ls', '-q'])).split('\n').includes(vol));
  await e.dockerOk(['run', '--rm', '-v', `${vol}:/data`, e.image, 'sh', '-c', 'echo hello > /data/f']);
  assert.equal(await e.dockerOk(['run', '--rm', '-v', `${vol}:/data`, e.image, 'cat', '/data/f']), 'hello');
  const mp = await e.dockerOk(['volume', 'inspect', '--format', '{{.Mountpoint}}', vol]);
  assert.ok(mp.startsWith(e.root), mp);
  await e.dockerOk(['volume', 'rm', vol]);
  assert.ok(!(await e.dockerOk(['volume', 'ls', '-q'])).split('\n').includes(vol));
});

test('the CLI and the API see the same containers', async () => {
  const e = await ready;
  const name = e.scope.uid('both');
  await e.ok(['create', '--name', name, e.image, 'echo', 'from-berth']);
  assert.match(await e.dockerOk(['ps', '-a', '--format', '{{.Names}}']), new RegExp(name));
  await e.dockerOk(['start', '-a', name]).then((o) => assert.equal(o, 'from-berth'));
  assert.match(await e.ok(['ps', '-a']), new RegExp(`${name}`));
  await e.ok(['rm', name]);
  assert.doesNotMatch(await e.dockerOk(['ps', '-a', '--format', '{{.Names}}']), new RegExp(name));
});

test('a daemon under BERTH_BRIDGE=none (dockerd --bridge=none): no --network gives lo only, NetworkMode stays default', async () => {
  const e = await ready;
  const socket = join(e.scope.dir, 'nobridge.sock');
  const d = await startDaemon({ ...e, env: { ...e.env, BERTH_BRIDGE: 'none' } }, socket);
  const h = ['-H', `unix://${socket}`];
  const name = e.scope.uid('nobridge');
  try {
    assert.equal(await e.dockerOk([...h, 'run', '--rm', e.image, 'ls', '/sys/class/net']), 'lo');
    await e.dockerOk([...h, 'create', '--name', name, e.image, 'true']);
    assert.equal(await e.dockerOk([...h, 'inspect', '--format', '{{.HostConfig.NetworkMode}}|{{.NetworkSettings.IPAddress}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', name]), 'default||none');
  } finally {
    await e.docker([...h, 'rm', '-f', name]);
    await d.stop();
  }
});

test('docker run -it under a pty: a terminal, stdin and the exit status', async () => {
  const e = await ready;
  const r = await execPty(DOCKER, ['run', '--rm', '-it', e.image, 'sh', '-c', 'tty; read x; echo got-$x; exit 4'], { env: e.dockerEnv, input: 'abc\n', timeoutMs: 30_000 });
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
  assert.match(r.stdout, /got-abc/);
});

test('docker save | docker load round-trips an image', async () => {
  const e = await ready;
  const tar = join(e.scope.dir, 'img.tar');
  await e.dockerOk(['save', '-o', tar, e.image]);
  const other = e.image.replace(/busybox:latest$/, 'saved:v1');
  await e.dockerOk(['tag', e.image, other]);
  await e.dockerOk(['save', '-o', join(e.scope.dir, 'other.tar'), other]);
  await e.dockerOk(['rmi', other]);
  const out = await e.dockerOk(['load', '-i', join(e.scope.dir, 'other.tar')]);
  assert.match(out, /Loaded image: /);
  assert.equal(await e.dockerOk(['image', 'inspect', '--format', '{{.Id}}', other]), await e.dockerOk(['image', 'inspect', '--format', '{{.Id}}', e.image]));
  await e.dockerOk(['rmi', other]);
});

test('docker events streams container events with filters', async () => {
  const e = await ready;
  const name = e.scope.uid('ev');
  const since = Math.floor(Date.now() / 1000) - 1;
  await e.dockerOk(['run', '--name', name, e.image, 'true']);
  await e.dockerOk(['rm', name]);
  const until = Math.floor(Date.now() / 1000) + 1;
  const out = await e.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', `container=${name}`, '--format', '{{.Action}}']);
  assert.deepEqual(out.split('\n'), ['create', 'start', 'die', 'destroy']);
});

test('daemon restart: containers keep running and are picked up', async () => {
  const e = await ready;
  const name = e.scope.uid('live');
  await e.dockerOk(['run', '-d', '--name', name, e.image, 'sh', '-c', 'echo one; sleep 60']);
  await e.daemon.stop('SIGKILL');
  await e.startDaemon();
  assert.equal(await e.dockerOk(['inspect', '--format', '{{.State.Status}}', name]), 'running');
  assert.equal(await e.dockerOk(['logs', name]), 'one');
  await e.dockerOk(['rm', '-f', name]);
});

test('docker exec: output, exit status, stdin, -d, and -it under a pty', async () => {
  const e = await ready;
  const name = `dx-${process.pid}`;
  await e.dockerOk(['run', '-d', '--name', name, e.image, 'sleep', '300']);
  try {
    const r = await e.docker(['exec', name, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(await e.dockerOk(['exec', '-i', name, 'sh', '-c', 'read x; echo got-$x'], { input: 'abc\n' }), 'got-abc');
    assert.equal(await e.dockerOk(['exec', '-e', 'A=1', '-w', '/tmp', name, 'sh', '-c', 'echo $A $(pwd)']), '1 /tmp');
    await e.dockerOk(['exec', '-d', name, 'sh', '-c', 'echo detached > /tmp/d']);
    let d = '';
    for (let i = 0; i < 50 && d !== 'detached'; i++) {
      d = (await e.docker(['exec', name, 'cat', '/tmp/d'])).stdout.trim();
      if (d !== 'detached') await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(d, 'detached');
    const p = await execPty(DOCKER, ['exec', '-it', name, 'sh', '-c', 'tty; read x; echo got-$x; exit 5'], { env: e.dockerEnv, input: 'xyz\n', timeoutMs: 30_000 });
    assert.equal(p.code, 5, p.stdout + p.stderr);
    assert.match(p.stdout, /\/dev\/pts\/\d+/);
    assert.match(p.stdout, /got-xyz/);
    const notFound = await e.docker(['exec', name, '/no/such/binary']);
    assert.equal(notFound.code, 127, notFound.stderr);
    const missing = await e.docker(['exec', 'no-such-container-x', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such container/);
  } finally {
    await e.docker(['rm', '-f', name]);
  }
});

test('docker cp both ways: a file, a directory, and a missing path', async () => {
  const e = await ready;
  const name = `dcp-${process.pid}`;
  const { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'berth-dcp-'));
  await e.dockerOk(['run', '-d', '--name', name, e.image, 'sleep', '300']);
  try {
    writeFileSync(join(dir, 'in.txt'), 'hello-in\n', { mode: 0o640 });
    mkdirSync(join(dir, 'tree'));
    writeFileSync(join(dir, 'tree', 'a'), 'A');
    await e.dockerOk(['cp', join(dir, 'in.txt'), `${name}:/tmp/`]);
    await e.dockerOk(['cp', join(dir, 'tree'), `${name}:/tmp/t2`]);
    assert.equal(await e.dockerOk(['exec', name, 'cat', '/tmp/in.txt', '/tmp/t2/a']), 'hello-in\nA');
    assert.equal(await e.dockerOk(['exec', name, 'stat', '-c', '%a', '/tmp/in.txt']), '640');
    await e.dockerOk(['exec', name, 'sh', '-c', 'mkdir -p /o/d && echo out1 > /o/d/f && ln -s f /o/d/l']);
    await e.dockerOk(['cp', `${name}:/o/d`, join(dir, 'got')]);
    assert.equal(readFileSync(join(dir, 'got', 'f'), 'utf8'), 'out1\n');
    await e.dockerOk(['cp', `${name}:/o/d/f`, join(dir, 'single')]);
    assert.equal(readFileSync(join(dir, 'single'), 'utf8'), 'out1\n');
    assert.ok(statSync(join(dir, 'got')).isDirectory());
    const miss = await e.docker(['cp', `${name}:/nope`, join(dir, 'x')]);
    assert.notEqual(miss.code, 0);
    assert.match(miss.stderr, /Could not find the file \/nope/);
  } finally {
    await e.docker(['rm', '-f', name]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docker top, stats (one sample and streamed), diff, commit', async () => {
  const e = await ready;
  const name = `dops-${process.pid}`;
  const tag = `berth-commit-${process.pid}:v1`;
  await e.dockerOk(['run', '-d', '--name', name, e.image, 'sh', '-c', 'echo committed > /made; rm /etc/motd 2>/dev/null; exec sleep 300']);
  try {
    const top = await e.dockerOk(['top', name]);
    assert.match(top, /PID/);
    assert.match(top, /sleep 300/);
    const st = await e.dockerOk(['stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.PIDs}}', name]);
    const [n, mem, pids] = st.split('|');
    assert.equal(n, name);
    assert.match(mem!, /[0-9.]+[KMG]i?B \/ /);
    assert.equal(pids, '1');
    const { exec } = await import('../../harness/index.js');
    const streamed = await exec('curl', ['-s', '--max-time', '2.6', '--unix-socket', e.daemon.socket, `http://x/containers/${name}/stats`], { timeoutMs: 10_000 });
    const lines = streamed.stdout.trim().split('\n');
    assert.ok(lines.length >= 2, streamed.stdout);
    const second = JSON.parse(lines[1]!) as { cpu_stats: { cpu_usage: { total_usage: number } }; precpu_stats: { cpu_usage: { total_usage: number } }; pids_stats: { current: number } };
    assert.ok(second.precpu_stats.cpu_usage.total_usage > 0);
    assert.equal(second.pids_stats.current, 1);
    let diff = '';
    for (let i = 0; i < 50 && !/A \/made/.test(diff); i++) {
      diff = await e.dockerOk(['diff', name]);
      if (!/A \/made/.test(diff)) await new Promise((res) => setTimeout(res, 100));
    }
    assert.match(diff, /^A \/made$/m);
    const id = await e.dockerOk(['commit', name, tag]);
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await e.dockerOk(['run', '--rm', tag, 'cat', '/made']), 'committed');
    await e.dockerOk(['rmi', tag]);
  } finally {
    await e.docker(['rm', '-f', name]);
  }
});

test('docker network create/ls/inspect/connect/disconnect/rm/prune; run -p 127.0.0.1::80 publishes', async () => {
  const e = await ready;
  const net = `dnet-${process.pid}`;
  const web = `dweb-${process.pid}`;
  const other = `doth-${process.pid}`;
  try {
    const id = await e.dockerOk(['network', 'create', '--label', 'berth.test=1', net]);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.ok((await e.dockerOk(['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes(net));
    assert.equal(await e.dockerOk(['network', 'ls', '-q', '--filter', 'label=berth.test=1', '--no-trunc']), id);
    const [info] = JSON.parse(await e.dockerOk(['network', 'inspect', net])) as { Id: string; Driver: string; IPAM: { Config: { Subnet: string }[] } }[];
    assert.equal(info!.Id, id);
    assert.equal(info!.Driver, 'bridge');
    assert.match(info!.IPAM.Config[0]!.Subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);

    await e.dockerOk(['run', '-d', '--name', web, '-p', '127.0.0.1::80', e.image, 'sh', '-c', 'echo hello-from-docker-api > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    const port = await e.dockerOk(['port', web, '80/tcp']);
    const m = /^127\.0\.0\.1:(\d+)$/.exec(port);
    assert.ok(m, port);
    const { exec } = await import('../../harness/index.js');
    let body = '';
    for (let i = 0; i < 50 && !body.includes('hello'); i++) {
      body = (await exec('curl', ['-s', '--max-time', '2', `http://127.0.0.1:${m[1]}/index.html`], { timeoutMs: 5000 })).stdout;
      if (!body.includes('hello')) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(body, 'hello-from-docker-api\n');

    await e.dockerOk(['run', '-d', '--name', other, '--network', net, e.image, 'sleep', '300']);
    await e.dockerOk(['network', 'connect', net, web]);
    const nets = JSON.parse(await e.dockerOk(['inspect', '--format', '{{json .NetworkSettings.Networks}}', web])) as Record<string, { IPAddress: string }>;
    assert.deepEqual(Object.keys(nets).sort(), ['bridge', net].sort());
    // the other container reaches web by its address on the user network
    const got = await e.dockerOk(['exec', other, 'wget', '-qO-', `http://${nets[net]!.IPAddress}/index.html`]);
    assert.equal(got, 'hello-from-docker-api');
    await e.dockerOk(['network', 'disconnect', net, web]);
    const after = JSON.parse(await e.dockerOk(['inspect', '--format', '{{json .NetworkSettings.Networks}}', web])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(after), ['bridge']);
    const busy = await e.docker(['network', 'rm', net]);
    assert.notEqual(busy.code, 0, 'a network in use cannot be removed');
    await e.dockerOk(['rm', '-f', other]);
    await e.dockerOk(['network', 'rm', net]);
    assert.ok(!(await e.dockerOk(['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes(net));
    await e.dockerOk(['network', 'create', `${net}-p`]);
    assert.match(await e.dockerOk(['network', 'prune', '-f']), new RegExp(`${net}-p`));
  } finally {
    await e.docker(['rm', '-f', web, other]);
    await e.docker(['network', 'rm', net, `${net}-p`]);
    await e.docker(['network', 'prune', '-f']);
  }
});

test('docker run --dns/--dns-search/--add-host, --network-alias/--ip on a user network, --health-cmd reach the container', async () => {
  const e = await ready;
  const net = `dalias-${process.pid}`;
  const srv = `dsrv-${process.pid}`;
  try {
    const files = await e.dockerOk(['run', '--rm', '--dns', '10.9.8.7', '--dns-search', 'corp.test', '--add-host', 'db.test:10.1.2.3', e.image, 'cat', '/etc/resolv.conf', '/etc/hosts']);
    assert.match(files, /^nameserver 10\.9\.8\.7$/m);
    assert.match(files, /^search corp\.test$/m);
    assert.match(files, /^10\.1\.2\.3\s+db\.test$/m);

    await e.dockerOk(['network', 'create', net]);
    // an address of the subnet berth chose (a fixed subnet could overlap another test's)
    const subnet = await e.dockerOk(['network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', net]);
    const ip = subnet.replace(/\.\d+\/\d+$/, '.50');
    await e.dockerOk(['run', '-d', '--name', srv, '--network', net, '--network-alias', 'web-alias', '--ip', ip,
      '--health-cmd', 'true', '--health-interval', '200ms', e.image, 'sleep', '300']);
    const nets = JSON.parse(await e.dockerOk(['inspect', '--format', '{{json .NetworkSettings.Networks}}', srv])) as Record<string, { IPAddress: string; Aliases: string[] | null }>;
    assert.equal(nets[net]!.IPAddress, ip);
    assert.ok(nets[net]!.Aliases?.includes('web-alias'), JSON.stringify(nets));
    // another container on the network resolves the alias to that address
    const hosts = await e.dockerOk(['run', '--rm', '--network', net, e.image, 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`^${ip.replace(/\./g, '\\.')}\\s.*\\bweb-alias\\b`, 'm'));
    let status = '';
    for (let i = 0; i < 100 && status !== 'healthy'; i++) {
      status = await e.dockerOk(['inspect', '--format', '{{.State.Health.Status}}', srv]);
      if (status !== 'healthy') await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(status, 'healthy');
  } finally {
    await e.docker(['rm', '-f', srv]);
    await e.docker(['network', 'rm', net]);
  }
});
