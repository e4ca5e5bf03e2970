// Builds dist/ with esbuild after `tsc --noEmit` has type-checked src/,
// then warms V8's code cache for the deliver bundle.
// deliver.cjs: the per-message hot path as ONE CommonJS file, because Postfix
// starts mda for every message and loading ~25 ES modules costs ~40 ms more
// than one bundled script (measured: `npm run bench`). main.mjs: the admin CLI
// (yargs is ESM-only). Native/optional and lazily loaded packages stay external.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// One id per build: a compiled config (src/config/compiled-cache.ts) from another build is never trusted.
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const build_id = `${version}-${Date.now().toString(36)}`;
const common = {
  // __MDA_VERSION__: `mda --version` (src/cli/version.ts) needs no package.json at run time.
  define: { __MDA_BUILD__: JSON.stringify(build_id), __MDA_VERSION__: JSON.stringify(version) },
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  external: ['unix-dgram', 'fs-ext', 'smol-toml', 'yargs'],
};

// Every code cache goes first, before a bundle changes: none is ever used with
// (or warmed from) a bundle it was not made from. Names as bin/mda reads them,
// plus deliver.cjs.cache from builds before the caches were named by bundle id.
mkdirSync('dist', { recursive: true });
for (const name of readdirSync('dist')) if (/^deliver\.cjs\..*cache/.test(name)) rmSync(`dist/${name}`, { force: true });

const deliver = await build({
  ...common,
  entryPoints: ['src/cli/deliver.ts'],
  outfile: 'dist/deliver.cjs',
  format: 'cjs',
  write: false,
  // import.meta.url does not exist in CommonJS; createRequire() takes the bundle's path as well
  // (a file URL would load node:url on every start)
  define: { ...common.define, 'import.meta.url': '__filename' },
});
// The bundle's last line is its id: a hash of every byte before it. bin/mda reads
// the cache only under that id, so a cache made from other bytes is never used,
// however equal their length (all V8 itself checks), at no cost per start.
const code = deliver.outputFiles[0].contents;
const id = createHash('sha256').update(code).digest('hex').slice(0, 32);
writeFileSync('dist/deliver.cjs.tmp', Buffer.concat([code, Buffer.from(`${code.at(-1) === 0x0a ? '' : '\n'}//# mdaBundleId=${id}\n`)]));
renameSync('dist/deliver.cjs.tmp', 'dist/deliver.cjs'); // whole: a delivery starting now reads the old bundle or the new one
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/main.mjs', format: 'esm' });

// Warm V8's code cache for the hot path: one real delivery into a throw-away
// Maildir, through the build's own entry (scripts/warm-code-cache.cjs), which
// compiles from source and saves the cache under the bundle's id. bin/mda never writes it.
const { mkdtempSync, existsSync } = await import('node:fs');
const { spawnSync } = await import('node:child_process');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const scratch = mkdtempSync(join(tmpdir(), 'mda-build-'));
writeFileSync(join(scratch, 'none.toml'), '[log]\ntarget = "none"\n');
try {
  const r = spawnSync(process.execPath, ['scripts/warm-code-cache.cjs', '--maildir', join(scratch, 'Maildir'), '--config', join(scratch, 'none.toml')], {
    input: 'From a@b  Sat Nov 21 23:21:04 2026\nReturn-Path: <a@b>\nDelivered-To: b@c\nSubject: warm-up\n\nwarm-up\n',
    env: { PATH: process.env.PATH, HOME: scratch },
  });
  if (r.status !== 0 || !existsSync(`dist/deliver.cjs.${id}.cache`)) {
    console.warn(`build: no code cache (warm-up delivery exited ${r.status}: ${r.stderr}); mda still works, it just compiles at start`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
