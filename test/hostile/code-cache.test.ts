/**
 * Issue 10 findings 2 and 9: the V8 code cache bin/mda compiles the deliver
 * bundle from. V8 accepts cached data for any source of the same length, so a
 * cache must be bound to the exact bundle it was made from and made afresh by
 * every build; and no switch in a delivery's environment may make mda write
 * it (as the recipient it cannot, and the delivery used to end in 4.3.0).
 * Builds into a temp copy of the project, so the real dist/ is never touched;
 * two builds in all (each takes a second or two).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/run-mda.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const MESSAGE = 'From a@b.example  Sat Nov 21 23:21:04 2026\nReturn-Path: <a@b.example>\nDelivered-To: c@d.example\nSubject: cache\n\nbody\n';

let t: ReturnType<typeof tempDir>;
let project: string;

/** Builds the copy as `npm run build` does after tsc (the type check adds nothing here and costs seconds). */
function build(): void {
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
  expect(`${r.status} ${r.stderr}${r.stdout}`).toBe('0 ');
}

function deliver(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [join(project, 'bin', 'mda'), 'deliver', '--config', join(t.dir, 'mda.toml'), ...args], {
    input: MESSAGE,
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH, HOME: t.dir, USER: 'root', ...env },
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Whether a delivery loaded the TOML parser, i.e. did not use the compiled config (NODE_DEBUG=module names every module). */
function loadsTomlParser(maildir: string): boolean {
  const r = deliver(['--maildir', maildir], { NODE_DEBUG: 'module' });
  expect(r.code).toBe(0);
  return r.output.includes('smol-toml');
}

/** What bin/mda does with the code cache for the copy's bundle: 'none' found, or V8 'accepted' / 'rejected' it. */
function cacheState(): string {
  const probe = `const s = require(${JSON.stringify(join(project, 'bin', 'mda'))}); const b = s.readDeliverBundle(); const c = s.readCodeCache(b);
    process.stdout.write(!c ? 'none' : s.compileDeliver(b, c).cachedDataRejected ? 'rejected' : 'accepted');`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  expect(r.stderr).toBe('');
  return r.stdout;
}

/** dist/ as names, sizes and mtimes: what a write of the cache would change. */
const distState = () => readdirSync(join(project, 'dist')).sort().map((n) => {
  const st = statSync(join(project, 'dist', n));
  return `${n} ${st.size} ${st.mtimeMs}`;
});

beforeAll(() => {
  t = tempDir('mda-code-cache-');
  chmodSync(t.dir, 0o755); // nobody must reach its Maildir below
  project = join(t.dir, 'project');
  mkdirSync(project);
  for (const p of ['bin', 'src', 'scripts', 'package.json', 'tsconfig.json']) cpSync(join(ROOT, p), join(project, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  writeFileSync(join(t.dir, 'mda.toml'), '[log]\ntarget = "none"\n', { mode: 0o644 });
  build();
}, 120_000);
afterAll(() => t?.cleanup());

describe('the code cache is bound to the bundle it was made from', () => {
  it('a same-length constant change, rebuilt, runs the new code; the compiled config still hits', () => {
    const md = join(t.dir, 'Maildir');
    const folder = (c: string) => c.repeat(150);
    // Today's limit is 200 characters: a 150-character folder is accepted.
    expect(deliver(['--maildir', md, '--folder', folder('a')]).code).toBe(0);
    expect(existsSync(join(md, `.${folder('a')}`))).toBe(true);

    const names = join(project, 'src', 'maildir', 'names.ts');
    const src = readFileSync(names, 'utf8');
    expect(src).toContain('const MAX_FOLDER = 200;');
    writeFileSync(names, src.replace('const MAX_FOLDER = 200;', 'const MAX_FOLDER = 100;'));
    build();

    // The rebuilt bundle refuses it: the delivery defers, naming the new limit, and makes no folder.
    const r = deliver(['--maildir', md, '--folder', folder('b')]);
    expect(r.output).toMatch(/^4\.3\.0 .*longer than 100 characters/);
    expect(r.code).toBe(75);
    expect(existsSync(join(md, `.${folder('b')}`))).toBe(false);

    // The build id the deliver bundle runs with is this build's: `config check` (the other bundle) writes
    // a compiled config the next delivery uses instead of loading the TOML parser.
    const check = spawnSync(process.execPath, [join(project, 'bin', 'mda'), 'config', 'check', '--config', join(t.dir, 'mda.toml')], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(loadsTomlParser(md)).toBe(false);

    // The rebuild left exactly one cache, V8 takes it; a bundle changed after the build (newer than its cache) compiles from source.
    expect(readdirSync(join(project, 'dist')).filter((n) => n.endsWith('.cache'))).toHaveLength(1);
    expect(cacheState()).toBe('accepted');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(project, 'dist', 'deliver.cjs'), later, later);
    expect(cacheState()).toBe('none');
  });

  it.skipIf(!isRoot)('MDA_WRITE_CODE_CACHE=1 in a delivery run for another user changes nothing: delivered, exit 0, dist/ untouched', () => {
    const home = join(t.dir, 'nobody');
    mkdirSync(home);
    chownSync(home, NOBODY, NOBODY);
    const before = distState();
    const r = deliver(['--user', 'nobody', '--maildir', join(home, 'Maildir')], { MDA_WRITE_CODE_CACHE: '1' });
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(join(home, 'Maildir', 'new'))).toHaveLength(1);
    expect(distState()).toEqual(before);
  });
});
