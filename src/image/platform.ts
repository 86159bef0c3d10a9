import { BerthError } from '../errors/index.js';
import type { Descriptor, Platform } from '../spec/image.js';

/** Node's process.arch -> the GOARCH names the image-spec uses. */
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') p.variant = 'v7';
  return p;
}

/** `os/arch[/variant]`, as `--platform` takes it; arch aliases normalized like containerd's. */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[a-z0-9._-]+$/i.test(x))) {
    throw new BerthError('INVALID_ARGUMENT', `invalid platform ${JSON.stringify(s)}: want os/arch[/variant]`);
  }
  return normalizePlatform({ os: parts[0].toLowerCase(), architecture: parts[1].toLowerCase(), ...(parts[2] ? { variant: parts[2].toLowerCase() } : {}) });
}

export function normalizePlatform(p: Platform): Platform {
  let { architecture, variant } = p;
  if (architecture === 'x86_64' || architecture === 'x86-64') architecture = 'amd64';
  if (architecture === 'aarch64') architecture = 'arm64';
  if (architecture === 'i386') architecture = '386';
  if (architecture === 'armhf') ((architecture = 'arm'), (variant = variant ?? 'v7'));
  if (architecture === 'armel') ((architecture = 'arm'), (variant = variant ?? 'v6'));
  if (architecture === 'arm64' && variant === '8') variant = 'v8';
  if (architecture === 'arm' && variant && /^\d$/.test(variant)) variant = `v${variant}`;
  const out: Platform = { os: p.os, architecture };
  if (variant) out.variant = variant;
  return out;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Whether an index entry's platform is usable for `want`. arm64 without variant is v8. */
export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  if (!have) return false;
  const h = normalizePlatform(have);
  const w = normalizePlatform(want);
  if (h.os !== w.os || h.architecture !== w.architecture) return false;
  if (!w.variant) return true;
  const hv = h.variant ?? (h.architecture === 'arm64' ? 'v8' : undefined);
  if (hv === undefined) return true;
  return hv === w.variant;
}

/**
 * Choose the manifest for a platform from an index: the first exact match (variant included),
 * else the first entry that matches os and architecture.
 */
export function selectPlatform(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  const w = normalizePlatform(want);
  const candidates = manifests.filter((m) => platformMatches(w, m.platform));
  const exact = candidates.find((m) => (normalizePlatform(m.platform!).variant ?? '') === (w.variant ?? ''));
  return exact ?? candidates[0];
}
