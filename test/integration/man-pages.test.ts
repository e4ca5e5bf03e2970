/**
 * Every page in man/ as the tools that read it on an installed system see it:
 * `mandoc -T lint` (all levels, style included) says nothing, the `.TH` line
 * has the page's name, section and an ISO date, and `lexgrog` (man-db, what
 * mandb/whatis/apropos use) parses a NAME line that names the page.
 * Without mandoc or lexgrog the tests are skipped with a warning, except with
 * CI=true (or MDA_E2E_REQUIRED=1), where a missing tool is a failure:
 * scripts/install-test-deps.sh installs both (mandoc, man-db).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAN = join(import.meta.dirname, '..', '..', 'man');
const PAGES = readdirSync(MAN)
  .filter((n) => /\.\d$/.test(n))
  .sort();
const required = process.env.CI === 'true' || process.env.MDA_E2E_REQUIRED === '1';

const found = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const TOOLS = { mandoc: found('mandoc'), lexgrog: found('lexgrog') };
const missing = Object.entries(TOOLS)
  .filter(([, ok]) => !ok)
  .map(([name]) => name);
if (missing.length > 0 && !required) {
  console.warn(`man-pages.test.ts: SKIPPED the man page checks: ${missing.join(' and ')} not installed (apt-get install mandoc man-db; CI=true makes this a failure)`);
}

const run = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
};

it('man/ has pages to check', () => {
  expect(PAGES.length).toBeGreaterThan(0);
});

it.runIf(required)('CI: mandoc and lexgrog are installed (scripts/install-test-deps.sh)', () => {
  expect(missing).toEqual([]);
});

describe.each(PAGES)('man/%s', (page) => {
  const path = join(MAN, page);
  const [, name, section] = /^(.+)\.(\d)$/.exec(page)!;

  it('.TH: the page name in capitals, the section of its file name, and an ISO 8601 date (YYYY-MM-DD) that is a real day', () => {
    const th = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('.TH '));
    const m = /^\.TH (\S+) (\d) "(\d{4})-(\d{2})-(\d{2})" "mda [^"]+" "[^"]+"$/.exec(th ?? '');
    expect(m, `${page}: ${th}`).not.toBeNull();
    expect(m![1]).toBe(name!.toUpperCase());
    expect(m![2]).toBe(section);
    const [y, mo, d] = [Number(m![3]), Number(m![4]), Number(m![5])];
    const day = new Date(Date.UTC(y, mo - 1, d));
    expect([day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()]).toEqual([y, mo, d]);
  });

  it.skipIf(!TOOLS.mandoc && !required)('mandoc -T lint -W style: no message at any level', () => {
    const r = run('mandoc', ['-T', 'lint', '-W', 'style', path]);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it.skipIf(!TOOLS.lexgrog && !required)('lexgrog: a NAME line whatis and apropos can index, naming this page', () => {
    const r = run('lexgrog', [path]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: "${basename(name!).replace(/\./g, '\\.')}(, [^"]+)? - [^"]+"\\n$`));
  });
});
