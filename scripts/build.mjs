// Builds dist/ with esbuild after `tsc --noEmit` has type-checked src/.
// deliver.cjs: the per-message hot path as ONE CommonJS file, because Postfix
// starts mda for every message and loading ~25 ES modules costs ~40 ms more
// than one bundled script (measured: `npm run bench`). main.mjs: the admin CLI
// (yargs is ESM-only). Native/optional and lazily loaded packages stay external.
import { build } from 'esbuild';

const common = {
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
  define: { 'import.meta.url': '__filename' },
});
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/main.mjs', format: 'esm' });
