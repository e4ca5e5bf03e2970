/**
 * Issue 10, finding 8: `--deadline` takes the same 1s-900s range as the
 * config's [delivery] deadline. Past 900s Postfix's command_time_limit (1000s)
 * kills mda and bounces the mail; past 2^31-1 ms Node's timer overflows, fires
 * after 1 ms and prints a TimeoutOverflowWarning before the DSN line. An
 * out-of-range or unreadable value defers (75, one 4.3.x line, nothing else).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadlineProblem } from '../../src/config/validate.js';
import { listDir, QUIET_CONFIG, runMda, tempDir } from '../helpers/run-mda.js';
import { writeFileSync } from 'node:fs';

const MSG = 'From alice@sender.test  Sat Nov 21 23:21:04 2026\nSubject: x\n\nhi\n';

let t: ReturnType<typeof tempDir>;
let cfg: string;
beforeEach(() => {
  t = tempDir('mda-deadline-range-');
  cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, QUIET_CONFIG);
});
afterEach(() => t.cleanup());

const deliver = (deadline: string) =>
  runMda(['deliver', '--config', cfg, '--maildir', join(t.dir, 'M'), '--deadline', deadline], { input: MSG, hardTimeoutMs: 15_000 });

describe('--deadline outside 1s..900s defers with one 4.3.x line (finding 8)', () => {
  for (const bad of ['2000s', '901s', '99999h', '0s', '0', '999ms', 'garbage', '', '-5s', '1e9']) {
    it(`--deadline ${JSON.stringify(bad)}: 75, only the DSN line, nothing stored`, async () => {
      const r = await deliver(bad);
      expect(r.code, r.output).toBe(75);
      expect(r.output).toMatch(/^4\.3\.\d [^\n]*deadline[^\n]*\n$/);
      expect(r.output).not.toMatch(/Warning/);
      expect(listDir(join(t.dir, 'M', 'new'))).toEqual([]);
    });
  }
  for (const good of ['1s', '900s', '15m', '30']) {
    it(`--deadline ${good} is accepted`, async () => {
      const r = await deliver(good);
      expect(r.output).toBe('');
      expect(r.code).toBe(0);
    });
  }
});

describe('one range for the flag and the config key', () => {
  it.each([
    [999, true],
    [1_000, false],
    [900_000, false],
    [900_001, true],
    [359_996_400_000, true],
  ])('%d ms out of range: %s', (ms, bad) => {
    expect(deadlineProblem(ms) !== undefined).toBe(bad);
  });
});
