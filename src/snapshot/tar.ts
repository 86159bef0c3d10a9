import { BerthError } from '../errors/index.js';

/**
 * A synchronous, push-driven tar reader for layer unpacking: ustar, GNU long names (L/K),
 * base-256 numbers, and PAX extended headers (POSIX.1-2001 `x`/`g`).
 *
 * Why not tar-stream: it decodes PAX values as UTF-8 strings, which corrupts binary xattr
 * values such as `security.capability` (a bitmask with bytes >= 0x80), and it creates a
 * stream per entry, which dominates the cost of unpacking many small files.
 */
export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  name: string;
  linkname: string;
  type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, fractional when a PAX record gave nanoseconds. */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** From PAX `SCHILY.xattr.<name>` (or `LIBARCHIVE.xattr.<name>`) records, values as raw bytes. */
  xattrs: Map<string, Buffer> | null;
}

export interface TarSink {
  entry(header: TarHeader): void;
  /** Content of the current regular file, in order; the buffer is only valid during the call. */
  data(chunk: Buffer): void;
  /** After the last data() of every entry (also for entries with no content). */
  end(): void;
}

const BLOCK = 512;
type State = 'header' | 'data' | 'meta' | 'pad' | 'done';
type Meta = 'pax' | 'paxGlobal' | 'longName' | 'longLink';

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

function invalid(msg: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', `read tar: ${msg}`);
}

function cstring(b: Buffer, start: number, end: number): string {
  let e = start;
  while (e < end && b[e] !== 0) e++;
  return b.toString('utf8', start, e);
}

function num(b: Buffer, start: number, end: number, field: string): number {
  if (b[start] & 0x80) {
    // Base-256 (GNU/star): big-endian two's complement with the top bit as marker.
    if (b[start] & 0x40) throw invalid(`negative ${field}`);
    let v = b[start] & 0x3f;
    for (let i = start + 1; i < end; i++) v = v * 256 + b[i];
    if (!Number.isSafeInteger(v)) throw invalid(`${field} out of range`);
    return v;
  }
  let v = 0;
  let i = start;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  for (; i < end; i++) {
    const c = b[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw invalid(`${field} is not an octal number`);
    v = v * 8 + (c - 0x30);
  }
  return v;
}

function checksumOk(b: Buffer): boolean {
  const want = num(b, 148, 156, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

interface Pax {
  [key: string]: string | undefined;
}
interface PaxRecords {
  strings: Pax;
  xattrs: Map<string, Buffer> | null;
}

/** Parse PAX records `"<len> <key>=<value>\n"`, keeping xattr values as bytes. */
export function parsePax(buf: Buffer): PaxRecords {
  const strings: Pax = {};
  let xattrs: Map<string, Buffer> | null = null;
  let off = 0;
  while (off < buf.length) {
    let sp = off;
    while (sp < buf.length && buf[sp] !== 0x20) sp++;
    const len = Number(buf.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= 0 || off + len > buf.length || sp >= off + len) {
      if (buf[off] === 0) break; // NUL padding after the records
      throw invalid('malformed PAX record');
    }
    const rec = buf.subarray(sp + 1, off + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw invalid('PAX record without "="');
    const key = rec.toString('utf8', 0, eq);
    const value = rec.subarray(eq + 1);
    if (key.startsWith('SCHILY.xattr.')) {
      (xattrs ??= new Map()).set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      (xattrs ??= new Map()).set(
        decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)),
        Buffer.from(value.toString('latin1'), 'base64'),
      );
    } else {
      strings[key] = value.toString('utf8');
    }
    off += len;
  }
  return { strings, xattrs };
}

export class TarReader {
  readonly #sink: TarSink;
  #state: State = 'header';
  readonly #block = Buffer.alloc(BLOCK);
  #fill = 0;
  #remaining = 0;
  #pad = 0;
  #meta: Meta = 'pax';
  #metaBuf: Buffer = Buffer.alloc(0);
  #metaFill = 0;
  #pax: PaxRecords | null = null;
  #paxGlobal: PaxRecords | null = null;
  #longName: string | null = null;
  #longLink: string | null = null;
  #inFile = false;

  constructor(sink: TarSink) {
    this.#sink = sink;
  }

  push(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      switch (this.#state) {
        case 'header': {
          let block: Buffer;
          if (this.#fill === 0 && len - off >= BLOCK) {
            block = chunk.subarray(off, off + BLOCK);
            off += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.#fill, len - off);
            chunk.copy(this.#block, this.#fill, off, off + n);
            this.#fill += n;
            off += n;
            if (this.#fill < BLOCK) return;
            this.#fill = 0;
            block = this.#block;
          }
          this.#header(block);
          break;
        }
        case 'data': {
          const n = Math.min(this.#remaining, len - off);
          if (this.#inFile) this.#sink.data(chunk.subarray(off, off + n));
          off += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#endEntry();
          break;
        }
        case 'meta': {
          const n = Math.min(this.#remaining, len - off);
          chunk.copy(this.#metaBuf, this.#metaFill, off, off + n);
          this.#metaFill += n;
          off += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#endMeta();
          break;
        }
        case 'pad': {
          const n = Math.min(this.#pad, len - off);
          off += n;
          this.#pad -= n;
          if (this.#pad === 0) this.#state = 'header';
          break;
        }
        case 'done':
          return; // anything after the end-of-archive blocks is ignored, as tar(1) does
      }
    }
  }

  /** The input ended: fine at an entry boundary (with or without end-of-archive blocks). */
  finish(): void {
    if (this.#state === 'done') return;
    if (this.#state === 'header' && this.#fill === 0 && !this.#pax && !this.#longName && !this.#longLink) return;
    throw invalid('unexpected end of archive');
  }

  #header(b: Buffer): void {
    if (isZero(b)) {
      this.#state = 'done';
      return;
    }
    if (!checksumOk(b)) throw invalid('header checksum mismatch (not a tar archive, or corrupt)');
    const typeflag = String.fromCharCode(b[156]);
    const size = num(b, 124, 136, 'size');
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > 16 * 1024 * 1024) throw invalid('extended header larger than 16 MiB');
      this.#meta = typeflag === 'x' ? 'pax' : typeflag === 'g' ? 'paxGlobal' : typeflag === 'L' ? 'longName' : 'longLink';
      this.#metaBuf = Buffer.allocUnsafe(size);
      this.#metaFill = 0;
      this.#remaining = size;
      this.#pad = padded - size;
      if (size === 0) this.#endMeta();
      else this.#state = 'meta';
      return;
    }
    const type = TYPES[typeflag];
    if (!type) throw invalid(`unsupported entry type ${JSON.stringify(typeflag)}`);
    const ustar = b.toString('latin1', 257, 263) === 'ustar\0';
    let name = cstring(b, 0, 100);
    if (ustar && b[345] !== 0) name = `${cstring(b, 345, 500)}/${name}`;
    let linkname = cstring(b, 157, 257);
    const mode = num(b, 100, 108, 'mode') & 0o7777;
    let uid = num(b, 108, 116, 'uid');
    let gid = num(b, 116, 124, 'gid');
    let mtime = num(b, 136, 148, 'mtime');
    let entrySize = size;
    if (this.#longName !== null) name = this.#longName;
    if (this.#longLink !== null) linkname = this.#longLink;
    let xattrs: Map<string, Buffer> | null = null;
    for (const p of [this.#paxGlobal, this.#pax]) {
      if (!p) continue;
      const s = p.strings;
      if (s.path !== undefined) name = s.path;
      if (s.linkpath !== undefined) linkname = s.linkpath;
      if (s.uid !== undefined) uid = Number(s.uid);
      if (s.gid !== undefined) gid = Number(s.gid);
      if (s.mtime !== undefined) mtime = Number(s.mtime);
      if (s.size !== undefined) entrySize = Number(s.size);
      if (p.xattrs) {
        xattrs ??= new Map();
        for (const [k, v] of p.xattrs) xattrs.set(k, v);
      }
    }
    if (![uid, gid, entrySize].every((n) => Number.isSafeInteger(n) && n >= 0) || !Number.isFinite(mtime)) {
      throw invalid(`entry ${JSON.stringify(name)}: bad numeric field`);
    }
    this.#pax = null;
    this.#longName = null;
    this.#longLink = null;
    // Header-only types carry no data whatever their size field says (as Go's archive/tar reads them).
    const dataSize = type === 'file' ? entrySize : 0;
    this.#inFile = type === 'file';
    this.#sink.entry({
      name,
      linkname,
      type,
      mode,
      uid,
      gid,
      size: type === 'file' ? entrySize : 0,
      mtime,
      devmajor: type === 'char' || type === 'block' ? num(b, 329, 337, 'devmajor') : 0,
      devminor: type === 'char' || type === 'block' ? num(b, 337, 345, 'devminor') : 0,
      xattrs,
    });
    this.#remaining = dataSize;
    this.#pad = Math.ceil(dataSize / BLOCK) * BLOCK - dataSize;
    if (dataSize === 0) this.#endEntry();
    else this.#state = 'data';
  }

  #endEntry(): void {
    this.#inFile = false;
    this.#sink.end();
    this.#state = this.#pad > 0 ? 'pad' : 'header';
  }

  #endMeta(): void {
    const buf = this.#metaBuf;
    this.#metaBuf = Buffer.alloc(0);
    switch (this.#meta) {
      case 'pax':
        this.#pax = parsePax(buf);
        break;
      case 'paxGlobal':
        this.#paxGlobal = parsePax(buf);
        break;
      case 'longName':
        this.#longName = cstring(buf, 0, buf.length);
        break;
      case 'longLink':
        this.#longLink = cstring(buf, 0, buf.length);
        break;
    }
    this.#state = this.#pad > 0 ? 'pad' : 'header';
  }
}
