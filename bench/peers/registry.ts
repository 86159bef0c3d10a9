/**
 * A private docker-registry (distribution 2.8) on 127.0.0.1 with filesystem storage in a temp
 * dir, started for the run and stopped at cleanup. Images are pushed into it with skopeo.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { defer, tempDir } from '../lib/cleanup.js';
import { mustRun, sleep } from '../lib/proc.js';
import type { BuiltImage } from './image.js';

export interface Registry {
  /** host:port */
  host: string;
  /** `host/repo:tag` after pushing a built image as `repo`. */
  push(image: BuiltImage, repo: string): Promise<string>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRegistry(log: (m: string) => void): Promise<Registry> {
  const dir = tempDir('registry').path;
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'registry.log');
  const fd = openSync(logFile, 'a');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  defer(`stop docker-registry (pid ${child.pid})`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${readFileSync(logFile, 'utf8').trim().split('\n')[0] ?? ''}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 200) throw new Error(`docker-registry on ${host} did not answer within 10 s`);
    await sleep(50);
  }
  log(`registry: docker-registry on ${host}`);
  return {
    host,
    async push(image, repo) {
      const ref = `${host}/${repo}:${image.tag}`;
      await mustRun(['skopeo', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${image.layout}:${image.tag}`, `docker://${ref}`], {
        timeoutMs: 300_000,
      });
      return ref;
    },
  };
}
