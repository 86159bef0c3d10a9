import { networkView, type Engine } from '../../engine/index.js';
import { BerthError } from '../../errors/index.js';
import { CniNetworkManager, type NetworkRecord } from '../../network/index.js';
import { qfilters, readJson, sendEmpty, sendJson, type Ctx } from './http.js';

function manager(engine: Engine): CniNetworkManager {
  const n = engine.network;
  if (!(n instanceof CniNetworkManager)) throw new BerthError('NOT_IMPLEMENTED', 'networks: this daemon runs without CNI networking');
  return n;
}

/** The filters docker network ls sends: name (substring), id (prefix), label (k or k=v). */
function matches(n: NetworkRecord, filters: string[]): boolean {
  const by = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    const k = f.slice(0, i);
    by.set(k, [...(by.get(k) ?? []), f.slice(i + 1)]);
  }
  const name = by.get('name');
  if (name && !name.some((v) => n.name.includes(v))) return false;
  const id = by.get('id');
  if (id && !id.some((v) => n.id.startsWith(v))) return false;
  const label = by.get('label');
  if (label && !label.every((l) => (l.includes('=') ? n.labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : l in n.labels))) return false;
  return true;
}

/** GET /networks */
export async function networkList(ctx: Ctx): Promise<void> {
  const net = manager(ctx.engine);
  // the default bridge is listed from the start, as dockerd's, unless it is turned off (BERTH_BRIDGE=none)
  if (!ctx.engine.bridgeDisabled) await net.defaultNetwork();
  const filters = qfilters(ctx.query);
  sendJson(ctx, 200, net.list().filter((n) => matches(n, filters)).map((n) => networkView(net, n)));
}

/** GET /networks/{id} */
export function networkInspect(ctx: Ctx): void {
  const net = manager(ctx.engine);
  sendJson(ctx, 200, networkView(net, net.inspect(ctx.params[0])));
}

/** POST /networks/create (moby NetworkCreateRequest): bridge driver, IPv4 IPAM only. */
export async function networkCreate(ctx: Ctx): Promise<void> {
  const net = manager(ctx.engine);
  const b = await readJson(ctx);
  const name = typeof b.Name === 'string' ? b.Name : '';
  if (!name) throw new BerthError('INVALID_ARGUMENT', 'network create: Name is required');
  const driver = typeof b.Driver === 'string' && b.Driver ? b.Driver : 'bridge';
  if (driver !== 'bridge') throw new BerthError('NOT_IMPLEMENTED', `network driver ${JSON.stringify(driver)}: only bridge is supported`);
  if (b.EnableIPv6) throw new BerthError('NOT_IMPLEMENTED', 'network create: IPv6 is not supported');
  const ipam = (b.IPAM ?? {}) as { Config?: { Subnet?: string; Gateway?: string }[] };
  const cfg = ipam.Config?.[0] ?? {};
  const n = await net.create(name, {
    ...(cfg.Subnet ? { subnet: cfg.Subnet } : {}),
    ...(cfg.Gateway ? { gateway: cfg.Gateway } : {}),
    ...(b.Internal ? { internal: true } : {}),
    labels: (b.Labels ?? {}) as Record<string, string>,
  });
  sendJson(ctx, 201, { Id: n.id, Warning: '' });
}

/** DELETE /networks/{id} */
export async function networkDelete(ctx: Ctx): Promise<void> {
  const id = await manager(ctx.engine).remove(ctx.params[0]);
  sendEmpty(ctx, 204);
}

/** POST /networks/prune */
export async function networkPrune(ctx: Ctx): Promise<void> {
  const gone = await manager(ctx.engine).prune();
  sendJson(ctx, 200, { NetworksDeleted: gone });
}

/** POST /networks/{id}/connect {Container, EndpointConfig: {Aliases, IPAMConfig: {IPv4Address}}} */
export async function networkConnect(ctx: Ctx): Promise<void> {
  const b = await readJson(ctx);
  const rec = ctx.engine.containers.find(String(b.Container ?? ''));
  const ep = (b.EndpointConfig ?? {}) as { Aliases?: string[]; IPAMConfig?: { IPv4Address?: string } };
  await manager(ctx.engine).connect(ctx.params[0], { id: rec.id, name: rec.name }, { aliases: ep.Aliases ?? [], ...(ep.IPAMConfig?.IPv4Address ? { ip: ep.IPAMConfig.IPv4Address } : {}) });
  sendEmpty(ctx, 200);
}

/** POST /networks/{id}/disconnect {Container, Force} */
export async function networkDisconnect(ctx: Ctx): Promise<void> {
  const b = await readJson(ctx);
  const rec = ctx.engine.containers.find(String(b.Container ?? ''));
  await manager(ctx.engine).disconnect(ctx.params[0], { id: rec.id, name: rec.name });
  sendEmpty(ctx, 200);
}
