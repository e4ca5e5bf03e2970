// Builds dist/ with esbuild after `tsc --noEmit` has type-checked src/,
// then warms V8's code cache for the deliver bundle.
// deliver.cjs: the per-message hot path as ONE CommonJS file, because Postfix
// starts mda for every message and loading ~25 ES modules costs ~40 ms more
// than one bundled script (measured: `npm run bench`). main.mjs: the admin CLI
// (yargs is ESM-only). Native/optional and lazily loaded packages stay external.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

// One id per build: a compiled config (src/config/compiled-cache.ts) from another build is never trusted.
const build_id = `${JSON.parse(readFileSync('package.json', 'utf8')).version}-${Date.now().toString(36)}`;
const common = {
  define: { __MDA_BUILD__: JSON.stringify(build_id) },
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  external: ['unix-dgram', 'smol-toml', 'yargs'],
};

await build({
  ...common,
  entryPoints: ['src/cli/deliver.ts'],
  outfile: 'dist/deliver.cjs',
  format: 'cjs',
  // import.meta.url does not exist in CommonJS; createRequire() takes the bundle's path as well
  // (a file URL would load node:url on every start)
  define: { ...common.define, 'import.meta.url': '__filename' },
});
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/main.mjs', format: 'esm' });

// Warm V8's code cache for the hot path: one real delivery into a throw-away
// Maildir, with the shim told to save the compiled code (bin/mda).
const { mkdtempSync, rmSync, existsSync, writeFileSync } = await import('node:fs');
const { spawnSync } = await import('node:child_process');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const scratch = mkdtempSync(join(tmpdir(), 'mda-build-'));
writeFileSync(join(scratch, 'none.toml'), '[log]\ntarget = "none"\n');
try {
  const r = spawnSync(process.execPath, ['bin/mda', 'deliver', '--maildir', join(scratch, 'Maildir'), '--config', join(scratch, 'none.toml')], {
    input: 'From a@b  Sat Nov 21 23:21:04 2026\nReturn-Path: <a@b>\nDelivered-To: b@c\nSubject: warm-up\n\nwarm-up\n',
    env: { PATH: process.env.PATH, HOME: scratch, MDA_WRITE_CODE_CACHE: '1' },
  });
  if (r.status !== 0 || !existsSync('dist/deliver.cjs.cache')) {
    console.warn(`build: no code cache (warm-up delivery exited ${r.status}: ${r.stderr}); mda still works, it just compiles at start`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
