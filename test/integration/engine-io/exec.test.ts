// berth exec end to end: exit codes, env/user/workdir, -d, -i, -it under a pty, run -it, detach keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { BERTH, engineEnv, leftovers, type EngineEnv } from '../engine/_env.js';

const { ready } = engineEnv('io-exec');
let e: EngineEnv;

test('setup', async () => {
  e = await ready;
  await e.ok(['run', '-d', '--name', 'box', '-e', 'FROM_RUN=1', '-w', '/tmp', e.image, 'sleep', '1000']);
});

test('exec: exit codes, 126/127, not running', async () => {
  let r = await e.berth(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  r = await e.berth(['exec', 'box', 'nosuchcmd']);
  assert.equal(r.code, 127, r.stderr);
  r = await e.berth(['exec', 'box', '/etc/passwd']);
  assert.equal(r.code, 126, r.stderr);
  await e.ok(['create', '--name', 'idle', e.image, 'true']);
  r = await e.berth(['exec', 'idle', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /is not running/);
  await e.ok(['rm', 'idle']);
});

test('exec: env, user, workdir, privileged', async () => {
  assert.equal(await e.ok(['exec', '-e', 'A=b', 'box', 'sh', '-c', 'echo $A $FROM_RUN; pwd; id -u']), 'b 1\n/tmp\n0');
  assert.equal(await e.ok(['exec', '-u', 'nobody', '-w', '/etc', 'box', 'sh', '-c', 'id -u; pwd']), '65534\n/etc');
  assert.equal(await e.ok(['exec', '-u', '1234:55', 'box', 'sh', '-c', 'echo $(id -u) $(id -g)']), '1234 55');
  const plain = await e.ok(['exec', 'box', 'sh', '-c', 'grep CapEff /proc/self/status']);
  const priv = await e.ok(['exec', '--privileged', 'box', 'sh', '-c', 'grep CapEff /proc/self/status']);
  assert.notEqual(plain, priv);
});

test('exec -i feeds stdin; exec -d runs in the background', async () => {
  assert.equal(await e.ok(['exec', '-i', 'box', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\n' }), 'HELLO');
  assert.equal(await e.ok(['exec', '-d', 'box', 'sh', '-c', 'sleep 0.2; echo done > /tmp/bg']), '');
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    const r = await e.berth(['exec', 'box', 'cat', '/tmp/bg']);
    if (r.code === 0) {
      assert.equal(r.stdout, 'done\n');
      return;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail('exec -d did not run');
});

/**
 * Runs `line` (shell) in script(1)'s pty, sized 30x100 first (script has no terminal to copy),
 * typing each input after its delay (ms), as a person would.
 */
function inPty(line: string, typed: [number, string][] = []): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-f', '-c', `stty rows 30 cols 100; ${line}`, '/dev/null'], { env: e.env, stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out });
    });
    child.stdin.on('error', () => {});
    (async () => {
      for (const [ms, text] of typed) {
        await new Promise((r) => setTimeout(r, ms));
        child.stdin.write(text);
      }
    })();
  });
}
const describe = (r: { code: number | null; stdout: string }) => `exit ${r.code}: ${JSON.stringify(r.stdout)}`;

test('exec -it under a pty: tty, exit code, size and resize', async () => {
  // the window changes while it runs: SIGWINCH to berth, a RESIZE frame, the pty's new size
  const cmd = `(sleep 1.5; stty rows 40 cols 120 </dev/tty) & ${BERTH} exec -it box sh -c 'tty; stty size; sleep 3; stty size; exit 3'`;
  const r = await inPty(cmd);
  assert.equal(r.code, 3, describe(r));
  assert.match(r.stdout, /\/dev\/pts\/\d+/);
  assert.match(r.stdout, /30 100\r*\n40 120/);
});

test('run -it with a shell: typed commands, exit code; ctrl-c is a byte for the container', async () => {
  // raw mode: ^C goes to the container's pty, whose line discipline interrupts the sleep
  const t0 = Date.now();
  const r = await inPty(`${BERTH} run --rm -it ${e.image} sh`, [
    [1500, 'stty size\n'],
    [300, 'sleep 20; echo after:$?\n'],
    [1000, '\x03'],
    [500, 'echo hi; exit 3\n'],
  ]);
  assert.equal(r.code, 3, describe(r));
  assert.match(r.stdout, /30 100/);
  // an interactive ash drops the rest of the line on SIGINT: the sleep ended, no "after:"
  assert.match(r.stdout, /\^C\r\r\n/);
  assert.doesNotMatch(r.stdout, /after:\d/);
  assert.match(r.stdout, /hi\r\r\n/);
  assert.ok(Date.now() - t0 < 15_000, 'the sleep was interrupted');
});

test('run -it: detach keys leave it running, attach comes back', async () => {
  const r = await inPty(`${BERTH} run -it --name det ${e.image} sh`, [
    [1500, 'echo one\n'],
    [300, '\x10\x11'],
  ]);
  assert.equal(r.code, 0, describe(r));
  assert.equal(await e.ok(['inspect', '-f', '{{.State.Status}}', 'det']), 'running');
  const a = await inPty(`${BERTH} attach --detach-keys ctrl-x det`, [[1000, 'echo two; exit 4\n']]);
  assert.equal(a.code, 4, describe(a));
  assert.match(a.stdout, /two/);
  await e.ok(['rm', 'det']);
});


test('top lists the container\'s processes; ps options pass through', async () => {
  const out = await e.ok(['top', 'box']);
  const lines = out.split('\n');
  assert.match(lines[0], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  assert.ok(lines.some((l) => /sleep 1000$/.test(l)), out);
  assert.ok(!lines.some((l) => /berth top/.test(l)), 'only the container\'s processes');
  const o = await e.ok(['top', 'box', '-o', 'pid,comm']);
  assert.match(o, /^\s*PID\s+COMMAND\n\s*\d+\s+sleep$/);
});

test('stats --no-stream: CPU %, memory usage/limit, pids', async () => {
  await e.ok(['run', '-d', '--name', 'burn', '-m', '64m', e.image, 'sh', '-c', 'while :; do :; done']);
  const out = await e.ok(['stats', '--no-stream', 'burn', 'box']);
  const [head, burn, box] = out.split('\n');
  assert.match(head, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
  const f = burn.split(/\s{3,}/);
  assert.equal(f[1], 'burn');
  assert.ok(parseFloat(f[2]) > 20, `a busy loop uses CPU: ${burn}`);
  assert.match(f[3], /^[\d.]+(B|KiB|MiB) \/ 64MiB$/);
  assert.match(f[6], /^[\d.]+[kMG]?B \/ [\d.]+[kMG]?B$/);
  assert.equal(f[7], '1'); // the shell alone
  assert.match(box, /box\s+0\.\d\d%/);
  await e.ok(['rm', '-f', 'burn']);
});

test('cleanup', async () => {
  await e.ok(['rm', '-f', 'box']);
  assert.deepEqual(leftovers(e), []);
});
