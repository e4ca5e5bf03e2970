/**
 * package.json and package-lock.json as npm reads them (no network, no npm run): the lock lists
 * every optional platform package `npm ci` demands, its root entry mirrors package.json (else
 * `npm install` rewrites it), `engines.node` is no wider than any runtime dependency's, no script
 * runs at install time on an admin's machine, and the tarball's `man` and `files` fields cover
 * man/ and what the README's production install needs. The packed tarball itself:
 * test/integration/npm-pack.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8'));

interface LockEntry {
  version?: string;
  dev?: boolean;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const packages: Record<string, LockEntry> = lock.packages;

/** Where npm would resolve `name` from the package at `from` (a lock key): its own node_modules, then each parent's. */
function resolveInLock(from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const key = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[key]) return key;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

const NUM = String.raw`(\d+)(?:\.(\d+|\*))?(?:\.(\d+|\*))?`;

/**
 * acceptsNode: does an `engines.node` range accept version [major, minor, patch]? Only the forms
 * the dependencies use (`>=X`, `>= X.*`, `^X.Y.Z`, `X.*`, joined by `||`); anything else throws,
 * so a dependency with a new form fails this test instead of passing it unread.
 */
function acceptsNode(range: string, v: [number, number, number]): boolean {
  return range.split('||').some((alt) => {
    const m = new RegExp(`^\\s*(>=|\\^)?\\s*${NUM}\\s*$`).exec(alt);
    if (!m) throw new Error(`engines.node form not understood: ${JSON.stringify(range)}`);
    const [, op, ma, mi, pa] = m;
    const want = [Number(ma), mi === undefined || mi === '*' ? 0 : Number(mi), pa === undefined || pa === '*' ? 0 : Number(pa)];
    const cmp = v[0] - want[0]! || v[1] - want[1]! || v[2] - want[2]!;
    if (op === '>=') return cmp >= 0;
    if (op === '^' || mi === undefined || mi === '*') return v[0] === want[0] && cmp >= 0;
    return cmp === 0;
  });
}

describe('acceptsNode (the few engines forms the dependencies use)', () => {
  it.each([
    ['>=12', [20, 19, 0], true],
    ['>= 18', [16, 20, 0], false],
    ['^20.19.0 || ^22.12.0 || >=23', [20, 18, 9], false],
    ['^20.19.0 || ^22.12.0 || >=23', [20, 19, 0], true],
    ['^20.19.0 || ^22.12.0 || >=23', [21, 7, 0], false],
    ['^20.19.0 || ^22.12.0 || >=23', [22, 11, 0], false],
    ['^20.19.0 || ^22.12.0 || >=23', [22, 12, 0], true],
    ['^20.19.0 || ^22.12.0 || >=23', [24, 0, 0], true],
    ['6.* || 8.* || >= 10.*', [7, 0, 0], false],
    ['6.* || 8.* || >= 10.*', [20, 19, 0], true],
    ['>=0.10.48', [20, 19, 0], true],
  ] as const)('%s accepts %j: %s', (range, v, want) => {
    expect(acceptsNode(range, [...v])).toBe(want);
  });
  it('throws on a form it does not read', () => {
    expect(() => acceptsNode('~20.1', [20, 1, 0])).toThrow(/not understood/);
  });
});

describe('package-lock.json', () => {
  it('lists every optional dependency of every locked package (npm ci refuses a lock without them)', () => {
    const missing: string[] = [];
    for (const [key, entry] of Object.entries(packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolveInLock(key, name)) missing.push(`${name} (optional dependency of ${key || 'the root'})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has a root entry that mirrors package.json, so npm install leaves it unchanged', () => {
    const r = packages['']!;
    for (const field of ['name', 'version', 'license', 'bin', 'engines', 'dependencies', 'devDependencies', 'optionalDependencies'] as const) {
      expect({ field, value: (r as Record<string, unknown>)[field] }).toEqual({ field, value: pkg[field] });
    }
  });
});

describe('package.json for the npm tarball', () => {
  it('asks for no Node older than a runtime dependency accepts (yargs 18: ^20.19 || ^22.12 || >=23)', () => {
    const ours: string = pkg.engines.node;
    // The lowest version of each of our branches: every runtime dependency must accept it.
    const floors = ours.split('||').map((alt) => {
      const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(alt)!;
      return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] as [number, number, number];
    });
    const refused: string[] = [];
    for (const [key, entry] of Object.entries(packages)) {
      if (key === '' || entry.dev || !entry.engines?.node) continue;
      for (const v of floors) if (!acceptsNode(entry.engines.node, v)) refused.push(`${key} (${entry.engines.node}) refuses ${v.join('.')}`);
    }
    expect(refused).toEqual([]);
    // ...and nothing below: Node 20.18 and 22.11 are what yargs 18 refuses.
    expect(acceptsNode(ours, [20, 18, 0])).toBe(false);
    expect(acceptsNode(ours, [22, 11, 0])).toBe(false);
    expect(acceptsNode(ours, [20, 19, 0])).toBe(true);
  });

  it('runs nothing at install time: no (pre|post)install or prepare; the build runs before npm pack', () => {
    const scripts: Record<string, string> = pkg.scripts;
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare', 'prepublish']) {
      expect({ script: s, value: scripts[s] }).toEqual({ script: s, value: undefined });
    }
    expect(scripts.prepack).toMatch(/npm run build/);
  });

  it('installs every man page in man/ (the man field), and ships what a production install needs', () => {
    const pages = readdirSync(new URL('man/', root)).filter((f) => /\.[1-8]$/.test(f)).map((f) => `man/${f}`).sort();
    expect(pages).toContain('man/mda.1');
    expect([...pkg.man].sort()).toEqual(pages);
    expect([...pkg.files].sort()).toEqual(['LICENSE', 'README.md', 'SECURITY.md', 'bin/', 'dist/', 'examples/', 'man/']);
    expect(readFileSync(new URL('LICENSE', root), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the mda developers\n/);
    expect(pkg.license).toBe('MIT');
  });
});
