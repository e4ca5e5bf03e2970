/**
 * The Sieve state files on a real filesystem: missing files read as empty,
 * updates replace the file whole under the sieve-state lock, and concurrent
 * updaters never lose each other's entries.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Deadline } from '../../src/deadline/deadline.js';
import { isLive, record } from '../../src/sieve/state-log.js';
import { readStateLog, stateDir, updateStateLog } from '../../src/sieve/state-store.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let deadline: Deadline;
beforeEach(() => {
  t = tempDir();
  deadline = Deadline.start(20_000, { graceMs: 1000, onHardStop: () => undefined });
});
afterEach(() => {
  deadline.dispose();
  t.cleanup();
});

const opts = () => ({ timeoutMs: 5_000, staleMs: 60_000, deadline });
const key = (i: number) => i.toString(16).padStart(40, '0');

describe('sieve state store', () => {
  it('a missing directory or file reads as empty', async () => {
    expect((await readStateLog(join(t.dir, 'nope'), 'vacation')).size).toBe(0);
  });

  it('update creates ~/.mda (0700) and the file (0600), and leaves no lock or tmp file', async () => {
    const dir = stateDir(t.dir);
    const seen = await updateStateLog(dir, 'vacation', opts(), 1000, (log) => {
      const was = isLive(log, key(1), 1000);
      record(log, key(1), 2000);
      return { changed: true, value: was };
    });
    expect(seen).toBe(false);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'sieve-vacation.log')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'sieve-vacation.log'), 'utf8')).toBe(`${key(1)} 2000\n`);
    expect(readdirSync(dir).sort()).toEqual(['sieve-vacation.log']);
    expect(isLive(await readStateLog(dir, 'vacation'), key(1), 1500)).toBe(true);
    expect((await readStateLog(dir, 'duplicate')).size).toBe(0);
  });

  it('expired entries are pruned on write', async () => {
    const dir = stateDir(t.dir);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'sieve-duplicate.log'), `${key(1)} 10\n${key(2)} 5000\n`);
    await updateStateLog(dir, 'duplicate', opts(), 100, (log) => (record(log, key(3), 200), { changed: true, value: undefined }));
    expect(readFileSync(join(dir, 'sieve-duplicate.log'), 'utf8')).toBe(`${key(2)} 5000\n${key(3)} 200\n`);
  });

  it('no change, no write', async () => {
    const dir = stateDir(t.dir);
    await updateStateLog(dir, 'duplicate', opts(), 100, () => ({ changed: false, value: 1 }));
    expect(existsSync(join(dir, 'sieve-duplicate.log'))).toBe(false);
  });

  it('40 concurrent updates all land', async () => {
    const dir = stateDir(t.dir);
    await Promise.all(Array.from({ length: 40 }, (_, i) =>
      updateStateLog(dir, 'vacation', opts(), 1, (log) => (record(log, key(i), 100 + i), { changed: true, value: undefined }))));
    expect((await readStateLog(dir, 'vacation')).size).toBe(40);
  });
});
