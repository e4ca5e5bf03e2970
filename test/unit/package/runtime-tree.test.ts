/**
 * runtimePackages (scripts/runtime-tree.mjs): which node_modules entries of
 * package-lock.json the Debian package and the e2e tests' installApp ship.
 */
import { describe, expect, it } from 'vitest';
import { runtimePackages } from '../../../scripts/runtime-tree.mjs';

const lock = (packages: Record<string, object>) => JSON.stringify({ lockfileVersion: 3, packages });

describe('runtimePackages', () => {
  it.each([
    ['no lock file', '', null],
    ['not JSON', '{', null],
    ['no packages (lockfile v1)', JSON.stringify({ lockfileVersion: 1, dependencies: {} }), null],
    ['the root entry is not a package', lock({ '': { name: 'mda' } }), []],
    ['runtime and optional packages are kept', lock({ 'node_modules/yargs': {}, 'node_modules/unix-dgram': { optional: true } }), ['yargs', 'unix-dgram']],
    ['dev packages are left out', lock({ 'node_modules/vitest': { dev: true }, 'node_modules/smol-toml': {} }), ['smol-toml']],
    ['scoped packages keep their scope', lock({ 'node_modules/@scope/pkg': {}, 'node_modules/@types/node': { dev: true } }), ['@scope/pkg']],
    ['nested copies come with their parent', lock({ 'node_modules/cliui': {}, 'node_modules/cliui/node_modules/string-width': {} }), ['cliui']],
  ])('%s', (_name, text, expected) => {
    expect(runtimePackages(text)).toEqual(expected);
  });
});
