// Entry of the berth CLI (built as dist/bin/berth.cjs): runs the CommonJS bundle `berth-main.cjs`
// through V8's code cache.
// Node 20 has no module compile cache (module.enableCompileCache is Node 22), and compiling
// the ~800 KB bundle was a third of a `berth ps` (docs/engine.md, "Cost"). vm.Script accepts
// `cachedData` (the compiled functions) and V8 checks it (version, flags, source length); the
// file name also carries the bundle's inode, mtime and size so a rebuild never meets an old
// cache. One cache per command name, written once after that command first ran (so it holds
// the functions the command compiled), atomically (temp file + rename); if dist/ is not
// writable, no cache.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const dir = dirname(fileURLToPath(import.meta.url));
const file = join(dir, 'berth-main.cjs');
const st = statSync(file);
const key = fnv1a(`${process.version} ${process.arch} ${process.execArgv.join(' ')} ${st.ino} ${st.mtimeMs} ${st.size}`);
const cacheFile = join(dir, `.berth-main.${key}.${commandName(process.argv.slice(2))}.v8cache`);
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${readFileSync(file, 'utf8')}\n});`, { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected === true) {
  process.once('beforeExit', () => {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // No cache this time (read-only install, full disk): the next start compiles again.
    }
  });
}
const mod = { exports: {} };
(script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, dir);

/** The command's name (`run`, `ps`, ...), skipping the global flags: only a cache key. */
function commandName(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--root' || a === '--state') i++;
    else if (!a.startsWith('-')) return /^[a-z][a-z-]{0,30}$/.test(a) ? a : 'other';
  }
  return 'none';
}

/** FNV-1a, 32 bits, in hex: a file-name key (node:crypto alone would cost ~4 ms to load). */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
