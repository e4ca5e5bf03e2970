import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../../src/config/schema.js';
import { formatIssue, validateConfig } from '../../../src/config/validate.js';

const FILE = '/etc/mda/mda.toml';

function check(text: string) {
  return validateConfig(parse(text, { integersAsBigInt: true }), FILE, text);
}

function configOf(text: string): Config {
  const r = check(text);
  if ('errors' in r) throw new Error(`unexpected errors:\n${r.errors.map(formatIssue).join('\n')}`);
  return r.config;
}

function errorsOf(text: string): string[] {
  const r = check(text);
  if (!('errors' in r)) throw new Error('expected errors, got a config');
  return r.errors.map(formatIssue);
}

describe('validateSieve: valid files', () => {
  it('defaults without a [sieve] table', () => {
    const c = configOf('');
    expect(c.sieve).toEqual({
      script: '~/.mda/filter.sieve', stateDir: '~/.mda', dir: '~/sieve', globalDir: '', before: [], after: [], maxRedirects: 4, vacationMinDays: 1, vacationMaxDays: 60,
      trustScanHeaders: false, maxScriptSize: 1024 * 1024, maxCpuSteps: defaultConfig().sieve.maxCpuSteps,
    });
    expect(c.delivery.autocreateFolders).toBe(true);
    expect(c.delivery.sendmail).toBe('/usr/sbin/sendmail');
  });

  it('reads every key', () => {
    const c = configOf(`
[delivery]
autocreate_folders = false
sendmail = "/usr/lib/sendmail"
[sieve]
script = "/srv/sieve/%u.sieve"
state_dir = "/var/lib/mda/%u"
before = ["/etc/mda/sieve/before.sieve"]
after = ["/etc/mda/sieve/a1.sieve", "/etc/mda/sieve/a2.sieve"]
max_redirects = 2
vacation_min_days = 0
vacation_max_days = 30
trust_scan_headers = true
max_script_size = "64K"
max_cpu_steps = 100000
`);
    expect(c.sieve).toEqual({
      script: '/srv/sieve/%u.sieve', stateDir: '/var/lib/mda/%u', dir: '~/sieve', globalDir: '', before: ['/etc/mda/sieve/before.sieve'], after: ['/etc/mda/sieve/a1.sieve', '/etc/mda/sieve/a2.sieve'],
      maxRedirects: 2, vacationMinDays: 0, vacationMaxDays: 30, trustScanHeaders: true, maxScriptSize: 65536, maxCpuSteps: 100000,
    });
    expect(c.delivery.autocreateFolders).toBe(false);
    expect(c.delivery.sendmail).toBe('/usr/lib/sendmail');
  });

  it.each([
    ['""', ''],
    ['"~/sieve/main.sieve"', '~/sieve/main.sieve'],
    ['"/home/%u/.dovecot.sieve"', '/home/%u/.dovecot.sieve'],
  ])('script = %s', (v, want) => {
    expect(configOf(`[sieve]\nscript = ${v}\n`).sieve.script).toBe(want);
  });

  it('max_redirects = 0 forbids redirect', () => {
    expect(configOf('[sieve]\nmax_redirects = 0\n').sieve.maxRedirects).toBe(0);
  });
});

describe('validateSieve: errors name the file, line and key', () => {
  it.each([
    ['[sieve]\nscript = "filter.sieve"\n', '/etc/mda/mda.toml:2: sieve.script: must be an absolute path, start with ~/'],
    ['[sieve]\nscript = "~/%h.sieve"\n', 'sieve.script: only %u (the user name) may follow a %'],
    ['[sieve]\nstate_dir = ""\n', 'sieve.state_dir: must not be empty'],
    ['[sieve]\nstate_dir = "state"\n', 'sieve.state_dir: must be an absolute path'],
    ['[sieve]\nscript = 3\n', 'sieve.script: must be a string, got an integer'],
    ['[sieve]\nbefore = "/etc/a.sieve"\n', 'sieve.before: must be an array of absolute paths, got a string'],
    ['[sieve]\nafter = ["/ok.sieve", "rel.sieve"]\n', 'sieve.after: element 2 must be an absolute path, got "rel.sieve"'],
    ['[sieve]\nmax_redirects = -1\n', 'sieve.max_redirects: must not be negative'],
    ['[sieve]\nmax_redirects = 1000\n', 'sieve.max_redirects: must be between 0 and 64, got 1000'],
    ['[sieve]\nvacation_min_days = 10\nvacation_max_days = 5\n', 'sieve.vacation_max_days: vacation_min_days (10) must not exceed vacation_max_days (5)'],
    ['[sieve]\nvacation_min_days = 90\n', 'sieve.vacation_min_days: vacation_min_days (90) must not exceed vacation_max_days (60)'],
    ['[sieve]\nvacation_max_days = 0\n', 'sieve.vacation_max_days: must be at least 1'],
    ['[sieve]\nvacation_max_days = 1000\n', 'sieve.vacation_max_days: must be between 1 and 365'],
    ['[sieve]\ntrust_scan_headers = "yes"\n', 'sieve.trust_scan_headers: must be true or false, got "yes"'],
    ['[sieve]\nmax_script_size = "0"\n', 'sieve.max_script_size: must be greater than 0'],
    ['[sieve]\nmax_script_size = "1G"\n', 'sieve.max_script_size: must be at most 64M'],
    ['[sieve]\nmax_cpu_steps = 5\n', 'sieve.max_cpu_steps: must be between 10000 and 1000000000, got 5'],
    ['[sieve]\nmax_cpu_step = 5\n', 'sieve.max_cpu_step: unknown key'],
    ['[delivery]\nautocreate_folders = 1\n', 'delivery.autocreate_folders: must be true or false, got an integer'],
    ['[delivery]\nsendmail = "sendmail"\n', 'delivery.sendmail: must be an absolute path to sendmail(1)'],
    ['[delivery]\nsendmail = "/usr/sbin/sendmail -t"\n', 'delivery.sendmail: is one program path, not a command line'],
    ['sieve = 1\n', 'sieve: must be a table, got an integer'],
  ])('%j', (text, want) => {
    expect(errorsOf(text).join('\n')).toContain(want);
  });

  it('reports every problem at once, in file order', () => {
    const errs = errorsOf('[sieve]\nmax_redirects = 100\nscript = "x"\n');
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatch(/:2: sieve.max_redirects/);
    expect(errs[1]).toMatch(/:3: sieve.script/);
  });
});
