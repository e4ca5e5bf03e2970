import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config, type ScannerConfig } from '../../../src/config/schema.js';
import { formatIssue, validateConfig } from '../../../src/config/validate.js';
import { hostProblem } from '../../../src/config/validate-scanners.js';

const FILE = '/etc/mda/mda.toml';
const K = 1024;
const M = K * K;

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

const SPAMD = '[[scanner]]\ntype = "spamd"\nhosts = ["127.0.0.1:783"]\n';
const CLAMD = '[[scanner]]\ntype = "clamd"\nhosts = ["/run/clamav/clamd.ctl"]\n';
const FILTER = '[[scanner]]\ntype = "filter"\ncommand = ["/usr/bin/filter"]\n';

describe('validateScanners: valid files', () => {
  it('no scanner tables: the defaults', () => {
    const c = configOf('');
    const d = defaultConfig();
    expect(c.scanners).toEqual([]);
    expect(c.scanning).toEqual(d.scanning);
    expect(c.spam).toEqual({ folder: '' });
    expect(c.virus).toEqual({ action: 'quarantine', folder: 'Quarantine' });
  });

  it('defaults per type', () => {
    const c = configOf(`[delivery]\nmax_message_size = "20M"\n${SPAMD}${CLAMD}${FILTER}`);
    const base = { order: 'ordered', filterMode: 'rewrite', spamdMode: 'headers', timeoutMs: 30_000, onFailure: 'deliver' };
    expect(c.scanners).toEqual<ScannerConfig[]>([
      { ...base, type: 'spamd', name: 'spamd', hosts: ['127.0.0.1:783'], command: [], maxSize: 500 * K } as ScannerConfig,
      { ...base, type: 'clamd', name: 'clamd', hosts: ['/run/clamav/clamd.ctl'], command: [], maxSize: 25 * M } as ScannerConfig,
      { ...base, type: 'filter', name: 'filter', hosts: [], command: ['/usr/bin/filter'], maxSize: 20 * M } as ScannerConfig,
    ]);
  });

  it('reads every key', () => {
    const c = configOf(`
[[scanner]]
type = "spamd"
name = "sa"
hosts = ["[::1]:783", "spam.example.org:783", "/run/spamd.sock"]
order = "shuffle"
mode = "check"
user = "spamuser"
timeout = "10s"
max_size = "1M"
on_failure = "defer"
[[scanner]]
type = "filter"
command = ["bogofilter", "-p", "-e"]
mode = "verdict"
[scanning]
breaker_failures = 3
breaker_cooldown = "2m"
state_dir = "/run/mda"
commit_reserve = "20s"
[spam]
folder = "Junk"
[virus]
action = "discard"
folder = "Virus.Caught"
`);
    expect(c.scanners[0]).toMatchObject({
      type: 'spamd', name: 'sa', hosts: ['[::1]:783', 'spam.example.org:783', '/run/spamd.sock'], order: 'shuffle',
      spamdMode: 'check', spamdUser: 'spamuser', timeoutMs: 10_000, maxSize: M, onFailure: 'defer',
    });
    expect(c.scanners[1]).toMatchObject({ type: 'filter', name: 'filter', command: ['bogofilter', '-p', '-e'], filterMode: 'verdict' });
    expect(c.scanning).toEqual({ breakerFailures: 3, breakerCooldownMs: 120_000, stateDir: '/run/mda', commitReserveMs: 20_000 });
    expect(c.spam).toEqual({ folder: 'Junk' });
    expect(c.virus).toEqual({ action: 'discard', folder: 'Virus.Caught' });
  });

  it.each([
    // [types in order, explicit names ('' = none), expected names]
    [['spamd'], [''], ['spamd']],
    [['spamd', 'spamd', 'spamd'], ['', '', ''], ['spamd', 'spamd-2', 'spamd-3']],
    [['spamd', 'clamd', 'spamd'], ['', '', ''], ['spamd', 'clamd', 'spamd-2']],
    [['spamd', 'spamd'], ['', 'spamd'], ['spamd-2', 'spamd']], // an explicit name is never taken by a default
    [['spamd', 'spamd', 'spamd'], ['', '', 'spamd-2'], ['spamd', 'spamd-3', 'spamd-2']],
    [['filter', 'filter'], ['a', 'b'], ['a', 'b']],
  ])('types %j named %j are called %j', (types, names, expected) => {
    const text = types
      .map((t, i) => {
        const what = t === 'filter' ? 'command = ["/bin/true"]' : 'hosts = ["h:1"]';
        return `[[scanner]]\ntype = "${t}"\n${what}\n${names[i] ? `name = "${names[i]}"\n` : ''}`;
      })
      .join('');
    expect(configOf(text).scanners.map((s) => s.name)).toEqual(expected);
  });

  it.each([
    ['timeout = "100ms"', 'timeoutMs', 100],
    ['timeout = "600s"', 'timeoutMs', 600_000],
    ['timeout = 5', 'timeoutMs', 5_000],
    ['max_size = 1', 'maxSize', 1],
    ['max_size = "2M"', 'maxSize', 2 * M],
    ['on_failure = "defer"', 'onFailure', 'defer'],
    ['order = "shuffle"', 'order', 'shuffle'],
  ])('spamd %s → %s = %j', (line, key, value) => {
    expect(configOf(`${SPAMD}${line}`).scanners[0]).toHaveProperty(key, value);
  });

  it.each([['h:1'], ['127.0.0.1:783'], ['[::1]:783'], ['[fe80::1%eth0]:783'], ['[::ffff:10.0.0.1]:65535'], ['/run/x.sock'], ['a-b.example:1']])(
    'host %s is fine',
    (h) => expect(hostProblem(h)).toBeUndefined(),
  );

  it.each([['spam'], ['Junk'], ['Lists.Spam'], [''], ['INBOX'], ['Späm'], ['R&D']])('[spam] folder = %j', (f) => {
    expect(configOf(`[spam]\nfolder = ${JSON.stringify(f)}`).spam.folder).toBe(f);
  });
});

describe('validateScanners: one error each, with line and key', () => {
  it.each<[string, string | RegExp]>([
    // [[scanner]]
    ['[scanner]\ntype = "spamd"', `${FILE}:1: scanner: must be an array of tables: write [[scanner]] for each scanner, got a table`],
    ['scanner = 1', /:1: scanner: must be an array of tables/],
    ['scanner = [1]', /:1: scanner\[0\]: must be a table, got an integer/],
    ['[[scanner]]\nhosts = ["h:1"]', `${FILE}:1: scanner[0].type: is required: "spamd", "clamd" or "filter"`],
    ['[[scanner]]\ntype = "spamc"', `${FILE}:2: scanner[0].type: must be "spamd", "clamd" or "filter", got "spamc"`],
    [`${SPAMD}\n[[scanner]]\ntype = "spamd"\nhosts = ["h:1"]\ntimout = "5s"`, `${FILE}:8: scanner[1].timout: unknown key (known: type, name, hosts, order, command, mode, user, timeout, max_size, on_failure)`],
    [`${SPAMD}\n[[scanner]]\ntype = "spamd"\nhosts = ["h:1"]\ntimeout = "50ms"`, `${FILE}:8: scanner[1].timeout: must be between 100ms and 600s, got "50ms"`],
    [`${SPAMD}timeout = "601s"`, /:4: scanner\[0\]\.timeout: must be between 100ms and 600s/],
    [`${SPAMD}timeout = "soon"`, /:4: scanner\[0\]\.timeout: "soon" is not a duration/],
    [`${SPAMD}max_size = 0`, /:4: scanner\[0\]\.max_size: must be greater than 0/],
    [`${SPAMD}max_size = "lots"`, /:4: scanner\[0\]\.max_size: "lots" is not a size/],
    [`${SPAMD}on_failure = "bounce"`, `${FILE}:4: scanner[0].on_failure: must be "deliver" or "defer", got "bounce"`],
    [`${SPAMD}order = "random"`, /:4: scanner\[0\]\.order: must be "ordered" or "shuffle"/],
    [`${SPAMD}mode = "rewrite"`, /:4: scanner\[0\]\.mode: must be "headers" or "check", got "rewrite"/],
    [`${SPAMD}command = ["/bin/x"]`, /:4: scanner\[0\]\.command: is not used by spamd scanners \(only filter\)/],
    [`${SPAMD}user = "a b"`, /:4: scanner\[0\]\.user: must be a user name without spaces/],
    [`${SPAMD}user = 5`, /:4: scanner\[0\]\.user: must be a string, got an integer/],
    [`${SPAMD}name = "my scanner"`, /:4: scanner\[0\]\.name: must be 1 to 64 letters, digits/],
    [`${SPAMD}name = ""`, /:4: scanner\[0\]\.name: must be 1 to 64/],
    [`${SPAMD}name = "x"\n${SPAMD}name = "x"`, `${FILE}:8: scanner[1].name: "x" is already the name of scanner[0]`],
    [`${CLAMD}mode = "headers"`, /:4: scanner\[0\]\.mode: is not used by clamd scanners \(only spamd, filter\)/],
    [`${CLAMD}user = "u"`, /:4: scanner\[0\]\.user: is not used by clamd scanners \(only spamd\)/],
    ['[[scanner]]\ntype = "clamd"', `${FILE}:1: scanner[0].hosts: is required: an array like ["127.0.0.1:783"] or ["/run/spamd.sock"]`],
    ['[[scanner]]\ntype = "clamd"\nhosts = []', /:3: scanner\[0\]\.hosts: must not be empty/],
    ['[[scanner]]\ntype = "clamd"\nhosts = "h:1"', /:3: scanner\[0\]\.hosts: must be an array of strings, got a string/],
    ['[[scanner]]\ntype = "clamd"\nhosts = ["h:1", 2]', /:3: scanner\[0\]\.hosts: must be an array of strings, element 2 is an integer/],
    ['[[scanner]]\ntype = "clamd"\nhosts = ["localhost"]', /:3: scanner\[0\]\.hosts: "localhost": a port is required/],
    ['[[scanner]]\ntype = "clamd"\nhosts = ["h:0"]', /"h:0": bad port "0" \(1-65535\)/],
    ['[[scanner]]\ntype = "clamd"\nhosts = ["h:65536"]', /bad port "65536" \(1-65535\)/],
    ['[[scanner]]\ntype = "clamd"\nhosts = ["::1:3310"]', /"::1:3310": an IPv6 address needs brackets/],
    ['[[scanner]]\ntype = "clamd"\nhosts = ["[zz]:3310"]', /not an IPv6 address: zz/],
    ['[[scanner]]\ntype = "clamd"\nhosts = ["run/clamd.sock"]', /"run\/clamd.sock": not an IPv4 address or host name/],
    ['[[scanner]]\ntype = "clamd"\nhosts = ["a b:1"]', /not an IPv4 address or host name: "a b"/],
    ['[[scanner]]\ntype = "clamd"\nhosts = [":1"]', /not an IPv4 address or host name: ""/],
    ['[[scanner]]\ntype = "filter"', `${FILE}:1: scanner[0].command: is required: the filter's argv, e.g. ["/usr/bin/spamassassin", "-e"]`],
    ['[[scanner]]\ntype = "filter"\ncommand = []', /:3: scanner\[0\]\.command: must not be empty/],
    ['[[scanner]]\ntype = "filter"\ncommand = ["bin/x"]', /:3: scanner\[0\]\.command: the program must be an absolute path or a bare name/],
    ['[[scanner]]\ntype = "filter"\ncommand = ["./x"]', /the program must be an absolute path or a bare name/],
    ['[[scanner]]\ntype = "filter"\ncommand = [""]', /the program must be an absolute path or a bare name/],
    [`${FILTER}mode = "check"`, /:4: scanner\[0\]\.mode: must be "rewrite" or "verdict", got "check"/],
    [`${FILTER}hosts = ["h:1"]`, /:4: scanner\[0\]\.hosts: is not used by filter scanners \(only spamd, clamd\)/],
    [`${FILTER}order = "shuffle"`, /:4: scanner\[0\]\.order: is not used by filter scanners/],
    // [scanning]
    ['[scanning]\nbreaker_failures = 0', `${FILE}:2: scanning.breaker_failures: must be at least 1, got 0`],
    ['[scanning]\nbreaker_failures = "5"', /:2: scanning\.breaker_failures: must be an integer number of failures, got a string/],
    ['[scanning]\nbreaker_failures = 1000001', /:2: scanning\.breaker_failures: must be at most 1000000/],
    ['[scanning]\nbreaker_cooldown = "500ms"', /:2: scanning\.breaker_cooldown: must be between 1s and 1h, got "500ms"/],
    ['[scanning]\nbreaker_cooldown = "2h"', /:2: scanning\.breaker_cooldown: must be between 1s and 1h/],
    ['[scanning]\nstate_dir = "var/tmp/mda"', `${FILE}:2: scanning.state_dir: must be an absolute path, got "var/tmp/mda"`],
    ['[scanning]\ncommit_reserve = "0s"', /:2: scanning\.commit_reserve: must be between 1s and 600s/],
    ['[delivery]\ndeadline = "10s"\n[scanning]\ncommit_reserve = "10s"', /:4: scanning\.commit_reserve: must be shorter than \[delivery\] deadline/],
    ['[scanning]\nbreakers = 1', /:2: scanning\.breakers: unknown key \(known: breaker_failures, breaker_cooldown, state_dir, commit_reserve\)/],
    ['scanning = 1', /:1: scanning: must be a table, got an integer/],
    // [spam], [virus]
    ['[spam]\nfolder = ".Junk"', `${FILE}:2: spam.folder: folder name starts with '.', got ".Junk"`],
    ['[spam]\nfolder = "a/b"', /:2: spam\.folder: folder name contains '\/'/],
    ['[spam]\nfolder = 1', /:2: spam\.folder: must be a string, got an integer/],
    ['[spam]\naction = "x"', /:2: spam\.action: unknown key \(known: folder\)/],
    ['[virus]\naction = "bounce"', `${FILE}:2: virus.action: must be "quarantine", "discard" or "deliver", got "bounce"`],
    ['[virus]\nfolder = "a..b"', /:2: virus\.folder: folder name contains '\.\.'/],
    ['[virus]\nfolder = ""', /:2: virus\.folder: quarantine needs a folder other than INBOX/],
    ['[virus]\naction = "quarantine"\nfolder = "INBOX"', /:3: virus\.folder: quarantine needs a folder other than INBOX/],
    ['[virus]\nsignature = 1', /:2: virus\.signature: unknown key \(known: action, folder\)/],
    // checked as stored: 80 characters, but 218 once in modified UTF-7 (RFC 3501 §5.1.3)
    [`[spam]\nfolder = "${'ä'.repeat(80)}"`, /:2: spam\.folder: folder name longer than 200 characters \(modified UTF-7\)/],
    ['[virus]\nfolder = "INBOX."', /:2: virus\.folder: quarantine needs a folder other than INBOX/],
  ])('%j → %s', (text, expected) => {
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    if (typeof expected === 'string') expect(errors[0]).toBe(expected);
    else expect(errors[0]).toMatch(expected);
  });

  it('deliver-marked infected mail may go to INBOX', () => {
    expect(configOf('[virus]\naction = "deliver"\nfolder = ""').virus).toEqual({ action: 'deliver', folder: '' });
  });

  // A missing key is reported on its [[scanner]] line.
  it('reports problems in several scanners at once, in file order', () => {
    const errors = errorsOf(`${SPAMD}timeout = "1ms"\n[[scanner]]\ntype = "filter"\n[[scanner]]\ntype = "x"`);
    expect(errors).toEqual([
      `${FILE}:4: scanner[0].timeout: must be between 100ms and 600s, got "1ms"`,
      `${FILE}:5: scanner[1].command: is required: the filter's argv, e.g. ["/usr/bin/spamassassin", "-e"]`,
      `${FILE}:8: scanner[2].type: must be "spamd", "clamd" or "filter", got "x"`,
    ]);
  });
});
