import { BerthError } from '../errors/index.js';

/**
 * Docker image references, parsed by the grammar of the distribution project's reference
 * package and normalized the way docker does: a bare name lives on the default domain, and a
 * one-component name on it lives under `library/`; with neither tag nor digest the tag is
 * `latest`.
 */
export interface Reference {
  /** Registry host with optional port, e.g. `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

/** Docker's default domain: part of the reference grammar's normalization rule. */
export const DEFAULT_DOMAIN = 'docker.io';
const OFFICIAL_PREFIX = 'library/';
const MAX_NAME = 255;

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

function bad(input: string, why: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `invalid reference ${JSON.stringify(input)}: ${why}`);
}

/** Check a digest string: `algorithm:encoded`, with sha256's 64 lowercase hex digits. */
export function validateDigest(digest: string): string {
  if (!DIGEST_RE.test(digest)) throw new BerthError('INVALID_ARGUMENT', `invalid digest ${JSON.stringify(digest)}`);
  if (digest.startsWith('sha256:') && !SHA256_RE.test(digest)) {
    throw new BerthError('INVALID_ARGUMENT', `invalid digest ${JSON.stringify(digest)}: sha256 needs 64 lowercase hex digits`);
  }
  if (!digest.startsWith('sha256:')) {
    throw new BerthError('NOT_IMPLEMENTED', `digest ${JSON.stringify(digest)}: only sha256 is supported`);
  }
  return digest;
}

/** Parse and normalize a reference as docker writes it: `busybox`, `host:5000/a/b:tag@sha256:...`. */
export function parseReference(input: string): Reference {
  if (input.length === 0) throw bad(input, 'empty');
  if (/\s/.test(input)) throw bad(input, 'contains white space');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      validateDigest(digest);
    } catch (err) {
      throw bad(input, (err as Error).message);
    }
  }
  let tag: string | undefined;
  // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(input, `invalid tag ${JSON.stringify(tag)}`);
  }
  if (rest.length === 0) throw bad(input, 'empty name');
  let domain: string;
  let path: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  // The first component is a domain when it has a '.' or ':' or is localhost, or has
  // upper-case letters (which a path may not); otherwise the name is on the default domain.
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN_RE.test(domain)) throw bad(input, `invalid registry host ${JSON.stringify(domain)}`);
  } else {
    domain = DEFAULT_DOMAIN;
    path = rest;
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  if (path !== path.toLowerCase()) throw bad(input, 'repository name must be lowercase');
  if (!PATH_RE.test(path)) throw bad(input, `invalid repository name ${JSON.stringify(path)}`);
  if (domain.length + 1 + path.length > MAX_NAME) throw bad(input, `name longer than ${MAX_NAME} characters`);
  if (/^[a-f0-9]{64}$/.test(rest) && tag === undefined && digest === undefined) {
    // docker refuses a 64-hex name: it would be ambiguous with an image id.
    throw bad(input, 'a 64-character hexadecimal name is an image id, not a repository');
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The repository: `domain/path`. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** Fully qualified string: `docker.io/library/busybox:latest`, `host/a@sha256:...`. */
export function formatReference(ref: Reference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short form docker prints: the default domain and `library/` left out. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  return ref.path.startsWith(OFFICIAL_PREFIX) ? ref.path.slice(OFFICIAL_PREFIX.length) : ref.path;
}

export function familiarString(ref: Reference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** True when `s` looks like an image id or a prefix of one (docker accepts 12+ hex). */
export function looksLikeImageId(s: string): boolean {
  return /^(sha256:)?[a-f0-9]{12,64}$/.test(s);
}
