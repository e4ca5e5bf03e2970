// The runtime tree of mda: what a machine needs to run the built CLI, and
// nothing the build or the tests need. Shared by the Debian package
// (scripts/package-deb.mjs) and the e2e tests' installApp()
// (test/helpers/realstack.ts), so both ship the same files.
// Must not: build (npm run build does), set permissions or ownership (callers
// know who must read the tree), or reach the network.
import fs from 'node:fs';
import path from 'node:path';

/** The parts of the repository copied as they are. */
export const RUNTIME_PARTS = ['bin', 'dist', 'package.json'];

/**
 * runtimePackages - top-level node_modules entries that are not dev-only in
 * package-lock.json (nested ones come along inside their parent), or null
 * when there is no usable lock file. Pure: takes the lock file's text.
 * @param {string} lockText
 * @returns {string[] | null}
 */
export function runtimePackages(lockText) {
  let lock;
  try {
    lock = JSON.parse(lockText);
  } catch {
    return null;
  }
  if (!lock || typeof lock.packages !== 'object') return null;
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && !k.slice(13).includes('node_modules/') && !v.dev)
    .map(([k]) => k.slice(13));
}

/**
 * copyRuntimeTree - copy bin/, dist/, package.json and the runtime packages of
 * node_modules from repo to dest (dest is replaced). Without a usable lock
 * file all of node_modules is copied. Optional packages that are not
 * installed are skipped. Throws when the build is missing.
 * @param {string} repo
 * @param {string} dest
 * @returns {string[]} the node_modules entries copied
 */
export function copyRuntimeTree(repo, dest) {
  for (const need of ['bin/mda', 'dist/main.mjs', 'dist/deliver.cjs', 'package.json']) {
    if (!fs.existsSync(path.join(repo, need))) {
      throw new Error(`${path.join(repo, need)} is missing: run \`npm run build\` first (npm test does)`);
    }
  }
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true, mode: 0o755 });
  for (const part of RUNTIME_PARTS) {
    fs.cpSync(path.join(repo, part), path.join(dest, part), { recursive: true });
  }
  const nm = path.join(repo, 'node_modules');
  let lockText = '';
  try {
    lockText = fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8');
  } catch {
    // no lock file: runtimePackages('') is null, so everything is copied
  }
  const runtime = runtimePackages(lockText);
  if (runtime === null) {
    fs.cpSync(nm, path.join(dest, 'node_modules'), { recursive: true });
    return fs.readdirSync(nm);
  }
  const copied = [];
  for (const pkg of runtime) {
    const from = path.join(nm, pkg);
    if (!fs.existsSync(from)) continue; // an optional package not installed here
    fs.cpSync(from, path.join(dest, 'node_modules', pkg), { recursive: true });
    copied.push(pkg);
  }
  return copied;
}
