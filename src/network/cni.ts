import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';
import { mark } from './trace.js';

/**
 * CNI plugin invocation (CNI spec 1.0, SPEC.md "Execution protocol" and "Network
 * configuration lists"): each plugin is an executable found in CNI_PATH, given the command
 * and the container in CNI_* variables and its configuration on stdin; it answers a result
 * or an error as JSON on stdout.
 */
export const CNI_PATH = process.env.BERTH_CNI_PATH || '/usr/lib/cni';
export const CNI_PACKAGE = 'containernetworking-plugins';

export type CniCommand = 'ADD' | 'CHECK' | 'DEL';

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface CniResult {
  cniVersion?: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: unknown;
}

export interface Invocation {
  containerId: string;
  /** Empty for a DEL whose namespace is already gone (the spec allows it). */
  netns: string;
  ifname: string;
  /** CNI_ARGS pairs, e.g. IP=10.1.0.5. */
  args?: Record<string, string>;
  /** The runtimeConfig values, each given to plugins that declare the capability. */
  runtimeConfig?: Record<string, unknown>;
}

/** The plugins a conflist needs that are not installed: the error names the package. */
export function checkPlugins(list: ConfList, path = CNI_PATH): void {
  for (const p of list.plugins) {
    if (!existsSync(join(path, p.type))) {
      throw new BerthError(
        'FAILED_PRECONDITION',
        `network ${JSON.stringify(list.name)}: CNI plugin ${JSON.stringify(p.type)} not found in ${path}: install the Debian package ${CNI_PACKAGE}`,
      );
    }
  }
}

function pluginConfig(list: ConfList, p: PluginConf, inv: Invocation, prevResult: CniResult | undefined): string {
  const conf: Record<string, unknown> = { ...p, cniVersion: list.cniVersion, name: list.name };
  const rc: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(p.capabilities ?? {})) {
    if (on && inv.runtimeConfig && inv.runtimeConfig[cap] !== undefined) rc[cap] = inv.runtimeConfig[cap];
  }
  if (Object.keys(rc).length) conf.runtimeConfig = rc;
  if (prevResult) conf.prevResult = prevResult;
  return JSON.stringify(conf);
}

/** Run one plugin: the spec's environment, config on stdin, JSON out (a result or an error). */
export function execPlugin(cmd: CniCommand, list: ConfList, p: PluginConf, inv: Invocation, prevResult?: CniResult, path = CNI_PATH): Promise<CniResult | undefined> {
  const bin = join(path, p.type);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: cmd,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifname,
    CNI_PATH: path,
    CNI_ARGS: Object.entries({ IgnoreUnknown: '1', ...(inv.args ?? {}) }).map(([k, v]) => `${k}=${v}`).join(';'),
  };
  const what = `CNI ${cmd} ${p.type} (network ${JSON.stringify(list.name)}, container ${inv.containerId.slice(0, 12)})`;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new BerthError('FAILED_PRECONDITION', `${what}: plugin ${bin} not found: install the Debian package ${CNI_PACKAGE}`));
      else reject(BerthError.wrap(e, what));
    });
    child.stdin.on('error', () => {});
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8').trim();
      let json: Record<string, unknown> | undefined;
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      if (code !== 0) {
        // SPEC.md "Error": {"code", "msg", "details"} on stdout
        const msg = json && typeof json.msg === 'string' ? `${json.msg}${json.details ? `: ${String(json.details)}` : ''}` : (text || Buffer.concat(err).toString('utf8').trim() || `exit status ${code}`);
        reject(new BerthError('INTERNAL', `${what}: ${msg}`));
        return;
      }
      resolve(cmd === 'ADD' ? ((json ?? {}) as CniResult) : undefined);
    });
    child.stdin.end(pluginConfig(list, p, inv, prevResult));
  });
}

/**
 * ADD a conflist: each plugin in order, each given the previous one's result; the last
 * result is the attachment's. A plugin failing leaves the caller to DEL the whole list
 * (SPEC.md: the runtime must DEL after a failed ADD, and DEL must tolerate half an ADD).
 */
export async function addList(list: ConfList, inv: Invocation): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (const p of list.plugins) {
    prev = await execPlugin('ADD', list, p, inv, prev);
    mark(`ADD ${p.type}`);
  }
  return prev ?? {};
}

export async function checkList(list: ConfList, inv: Invocation, result: CniResult): Promise<void> {
  for (const p of list.plugins) await execPlugin('CHECK', list, p, inv, result);
}

/**
 * DEL a conflist in reverse order, with the cached ADD result as prevResult. Every plugin
 * runs even if one fails (the rest still hold resources); the first error is thrown after.
 */
export async function delList(list: ConfList, inv: Invocation, result: CniResult | undefined): Promise<void> {
  let first: unknown;
  for (const p of [...list.plugins].reverse()) {
    try {
      await execPlugin('DEL', list, p, inv, result);
      mark(`DEL ${p.type}`);
    } catch (err) {
      first ??= err;
    }
  }
  if (first) throw first;
}
