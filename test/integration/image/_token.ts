/**
 * A registry with the distribution token flow for real: Debian's docker-registry with
 * `auth.token` (Bearer challenges, RS256 JWTs checked against a self-signed certificate made
 * here with openssl) and a small token server in this process that checks Basic credentials
 * and grants what the scope asks for.
 */
import { spawn } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execOk, freePort, type Scope } from '../../harness/index.js';

export interface TokenRegistry {
  host: string;
  /** Token requests seen, with their scopes. */
  tokenRequests: string[][];
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenRegistry(scope: Scope, user: { username: string; password: string }): Promise<TokenRegistry> {
  const dir = scope.mkdtemp('token-registry');
  await execOk('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=berth-test-token', '-days', '1']);
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const certDer = new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw;
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const reg: TokenRegistry = { host: '', tokenRequests: [] };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    reg.tokenRequests.push(scopes);
    const auth = req.headers.authorization ?? '';
    const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    if (auth !== expected) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user.username, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signing).sign(key);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token: `${signing}.${b64url(sig)}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  scope.defer('close token server', () => new Promise<void>((r) => server.close(() => r())));
  const tokenPort = (server.address() as AddressInfo).port;
  const port = await freePort();
  mkdirSync(join(dir, 'storage'));
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'storage')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      'auth:',
      '  token:',
      `    realm: http://127.0.0.1:${tokenPort}/token`,
      `    service: ${service}`,
      `    issuer: ${issuer}`,
      `    rootcertbundle: ${join(dir, 'cert.pem')}`,
    ].join('\n') + '\n',
  );
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  scope.defer('stop token registry', async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
    if (r?.status === 401) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`token registry did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  reg.host = `127.0.0.1:${port}`;
  return reg;
}
