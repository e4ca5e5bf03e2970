/**
 * The README's npm route, end to end: `npm pack` of this tree, then `npm install -g --omit=dev`
 * of the tarball into a scratch prefix. The tarball holds dist/ (nothing is built on the admin's
 * machine), the installed `mda` delivers, and `man mda` finds its page. Packs with
 * --ignore-scripts: `prepack` would rebuild dist/ under the other tests' feet (npm test builds
 * first). Installs --prefer-offline from npm's cache (filled by npm ci); if the registry is then
 * needed and unreachable, the test is skipped with a warning (failed in CI or with MDA_E2E_REQUIRED=1).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';
const NO_NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|ENOTCACHED/;

const scratch = mkdtempSync(join(tmpdir(), 'mda-npm-pack-'));
const prefix = join(scratch, 'g');
let tarball = '';
let skipReason = '';
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, encoding: 'utf8', timeout: 90_000 });
}

describe('npm pack, then npm install -g --omit=dev of the tarball', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/deliver.cjs'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const pack = npm(['pack', '--ignore-scripts', '--pack-destination', scratch], ROOT);
    if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
    tarball = join(scratch, pack.stdout.trim().split('\n').at(-1)!);
    const install = npm(['install', '-g', '--omit=dev', '--prefer-offline', '--prefix', prefix, tarball], scratch);
    if (install.status !== 0) {
      if (NO_NETWORK.test(install.stderr) && !required) {
        skipReason = `the registry is unreachable and npm's cache lacks a dependency: ${NO_NETWORK.exec(install.stderr)![0]}`;
        console.warn(`\n*** SKIPPED test/integration/npm-pack.test.ts: ${skipReason} ***\n`);
        return;
      }
      throw new Error(`npm install -g of the tarball failed (${install.status}): ${install.stderr}`);
    }
  }, 120_000);

  it('packs dist/, bin/, man/, examples/, LICENSE, SECURITY.md and README.md, and no sources or tests', () => {
    const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const f of ['bin/mda', 'dist/deliver.cjs', 'dist/main.mjs', 'LICENSE', 'SECURITY.md', 'README.md', 'package.json', 'examples/mda.toml', 'man/mda.1']) {
      expect(list).toContain(f);
    }
    expect(list.filter((f) => /^(src|test|scripts|bench|node_modules|demo)\/|^\.|tsconfig|vitest/.test(f))).toEqual([]);
  });

  it('installs a working mda with no dev dependency: --version, then a delivery', (ctx) => {
    if (skipReason) ctx.skip();
    const lib = join(prefix, 'lib/node_modules/mda');
    expect(readdirSync(join(lib, 'node_modules')).filter((d) => ['typescript', 'esbuild', 'vitest', '@types'].includes(d))).toEqual([]);
    expect(existsSync(join(lib, 'src'))).toBe(false);
    const mda = join(prefix, 'bin/mda');
    const version = spawnSync(mda, ['--version'], { encoding: 'utf8' });
    expect({ status: version.status, first: version.stdout.split('\n')[0] }).toEqual({ status: 0, first: expect.stringContaining(pkg.version) });

    // As Postfix runs it: the installed link, the message on stdin, a small environment.
    const config = join(scratch, 'quiet.toml');
    writeFileSync(config, '[log]\ntarget = "none"\n');
    const deliver = spawnSync(mda, ['deliver', '--maildir', join(scratch, 'Maildir'), '--config', config], {
      input: readFileSync(join(ROOT, 'examples/hello.eml')),
      env: { PATH: process.env.PATH, HOME: scratch, USER: process.env.USER ?? 'root' },
      encoding: 'utf8',
    });
    expect({ status: deliver.status, output: deliver.stdout + deliver.stderr }).toEqual({ status: 0, output: '' });
    expect(readdirSync(join(scratch, 'Maildir/new'))).toHaveLength(1);
    // Every recipient runs it: the installed files must be readable (and bin/mda executable) by all.
    expect(statSync(join(lib, 'dist/deliver.cjs')).mode & 0o004).toBe(0o004);
    expect(statSync(join(lib, 'bin/mda')).mode & 0o005).toBe(0o005);
  });

  it('installs every man page where man finds it (the man field)', (ctx) => {
    if (skipReason) ctx.skip();
    for (const page of pkg.man as string[]) {
      const name = page.replace(/^man\//, '');
      const section = /\.(\d)$/.exec(name)![1];
      expect(existsSync(join(prefix, `share/man/man${section}`, name)), `${name} in share/man/man${section}`).toBe(true);
    }
    const manBinary = spawnSync('man', ['--version']);
    if (manBinary.error) {
      console.warn('\n*** test/integration/npm-pack.test.ts: man is not installed; `man -w mda` not tried ***\n');
      return;
    }
    // man -w prints the page the link leads to (the installed package's man/mda.1)
    const lib = realpathSync(join(prefix, 'lib/node_modules/mda'));
    const w = spawnSync('man', ['-w', 'mda'], { env: { ...process.env, MANPATH: join(prefix, 'share/man') }, encoding: 'utf8' });
    expect({ status: w.status, path: w.stdout.trim() }).toEqual({ status: 0, path: join(lib, 'man/mda.1') });
    const toml = spawnSync('man', ['-w', '5', 'mda.toml'], { env: { ...process.env, MANPATH: join(prefix, 'share/man') }, encoding: 'utf8' });
    expect(toml.stdout.trim()).toBe(join(lib, 'man/mda.toml.5'));
  });
});
