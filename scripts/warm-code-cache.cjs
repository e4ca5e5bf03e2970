// Build only (scripts/build.mjs runs it; nothing a delivery runs can reach it):
// warms V8's code cache for dist/deliver.cjs. It compiles the bundle from
// source, never from an existing cache (V8 would accept an old one of the same
// length and save the old code again), runs the delivery given on the command
// line so the cache also holds the functions a delivery compiles, and on exit
// saves the cache under the bundle's id (tmp + rename: a delivery starting
// meanwhile reads the whole cache or none). A failed save only costs speed.
'use strict';
const { renameSync, rmSync, writeFileSync } = require('node:fs');
const shim = require('../bin/mda');

const bundle = shim.readDeliverBundle();
if (!bundle.cacheFile) {
  console.error(`warm-code-cache: ${bundle.file} has no bundle id line; run scripts/build.mjs`);
  process.exit(1);
}
const script = shim.compileDeliver(bundle, undefined);
process.on('exit', () => {
  const tmp = `${bundle.cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, script.createCachedData(), { flag: 'wx', mode: 0o644 });
    renameSync(tmp, bundle.cacheFile);
  } catch (err) {
    rmSync(tmp, { force: true });
    console.error(`warm-code-cache: cannot save ${bundle.cacheFile}: ${err.message}`);
    process.exitCode = 1;
  }
});
shim.runDeliverScript(bundle, script).deliverMain(process.argv.slice(2));
