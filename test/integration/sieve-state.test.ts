/**
 * The Sieve state files on a real filesystem: missing files read as empty,
 * updates append (or, to drop expired lines, replace the file whole) under the sieve-state lock, and concurrent
 * updaters never lose each other's entries.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Deadline } from '../../src/deadline/deadline.js';
import { COMPACT_SLACK, isLive, MAX_DUPLICATE_ENTRIES, MAX_STATE_BYTES, MAX_VACATION_ENTRIES, record } from '../../src/sieve/state-log.js';
import { clearFullMark, markFull, readStateLog, StateFullError, stateDir, updateStateLog } from '../../src/sieve/state-store.js';
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

  it('an update appends its line; expired lines go when they outnumber the live ones', async () => {
    const dir = stateDir(t.dir);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'sieve-duplicate.log'), `${key(1)} 10\n${key(2)} 5000\n`);
    await updateStateLog(dir, 'duplicate', opts(), 100, (log) => (record(log, key(3), 200), { changed: true, value: undefined }));
    expect(readFileSync(join(dir, 'sieve-duplicate.log'), 'utf8')).toBe(`${key(1)} 10\n${key(2)} 5000\n${key(3)} 200\n`);
    // COMPACT_SLACK dead lines more than live ones: the next update rewrites the file with the live entries only.
    const dead = Array.from({ length: COMPACT_SLACK + 5 }, (_, i) => `${key(1000 + i)} 50\n`).join('');
    writeFileSync(join(dir, 'sieve-duplicate.log'), `${dead}${key(2)} 5000\n`);
    await updateStateLog(dir, 'duplicate', opts(), 100, (log) => (record(log, key(3), 200), { changed: true, value: undefined }));
    expect(readFileSync(join(dir, 'sieve-duplicate.log'), 'utf8')).toBe(`${key(2)} 5000\n${key(3)} 200\n`);
    expect(readdirSync(dir).sort()).toEqual(['sieve-duplicate.log']);
  });

  it('a torn last line (a cut append) is ignored and the next update rewrites the file whole', async () => {
    const dir = stateDir(t.dir);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'sieve-vacation.log'), `${key(1)} 5000\n${key(1)} 50`);
    expect(isLive(await readStateLog(dir, 'vacation'), key(1), 100)).toBe(true);
    await updateStateLog(dir, 'vacation', opts(), 100, (log) => (record(log, key(2), 300), { changed: true, value: undefined }));
    expect(readFileSync(join(dir, 'sieve-vacation.log'), 'utf8')).toBe(`${key(1)} 5000\n${key(2)} 300\n`);
  });

  it('forgetting appends `<key> 0`, and the last line wins', async () => {
    const dir = stateDir(t.dir);
    await updateStateLog(dir, 'vacation', opts(), 100, (log) => (record(log, key(1), 300), { changed: true, value: undefined }));
    await updateStateLog(dir, 'vacation', opts(), 100, (log) => ({ changed: log.delete(key(1)), value: undefined }));
    expect(readFileSync(join(dir, 'sieve-vacation.log'), 'utf8')).toBe(`${key(1)} 300\n${key(1)} 0\n`);
    expect(isLive(await readStateLog(dir, 'vacation'), key(1), 100)).toBe(false);
  });

  it('a vacation log at its cap refuses a new entry and writes nothing; a duplicate log forgets the earliest', async () => {
    const dir = stateDir(t.dir);
    mkdirSync(dir, { mode: 0o700 });
    const full = Array.from({ length: MAX_VACATION_ENTRIES }, (_, i) => `${key(i)} ${1000 + i}\n`).join('');
    writeFileSync(join(dir, 'sieve-vacation.log'), full);
    await expect(updateStateLog(dir, 'vacation', opts(), 100, (log) => (record(log, key(MAX_VACATION_ENTRIES), 5000), { changed: true, value: undefined })))
      .rejects.toBeInstanceOf(StateFullError);
    expect(readFileSync(join(dir, 'sieve-vacation.log'), 'utf8')).toBe(full);
    writeFileSync(join(dir, 'sieve-duplicate.log'), Array.from({ length: MAX_DUPLICATE_ENTRIES }, (_, i) => `${key(i)} ${1000 + i}\n`).join(''));
    await updateStateLog(dir, 'duplicate', opts(), 100, (log) => (record(log, key(MAX_DUPLICATE_ENTRIES), 5000), { changed: true, value: undefined }));
    const dup = await readStateLog(dir, 'duplicate');
    expect(dup.size).toBe(MAX_DUPLICATE_ENTRIES);
    expect(dup.has(key(0))).toBe(false);
    expect(dup.has(key(MAX_DUPLICATE_ENTRIES))).toBe(true);
  });

  it('a state file over MAX_STATE_BYTES is not read: the update fails, nothing is written', async () => {
    const dir = stateDir(t.dir);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'sieve-vacation.log'), `${key(1)} 5000\n`.repeat(Math.ceil(MAX_STATE_BYTES / 40) + 1));
    await expect(updateStateLog(dir, 'vacation', opts(), 100, (log) => (record(log, key(2), 300), { changed: true, value: undefined })))
      .rejects.toThrow(/too large/);
  });

  it('markFull is true once, until clearFullMark', async () => {
    const dir = stateDir(t.dir);
    mkdirSync(dir, { mode: 0o700 });
    expect(await markFull(dir, 'vacation')).toBe(true);
    expect(await markFull(dir, 'vacation')).toBe(false);
    await clearFullMark(dir, 'vacation');
    expect(await markFull(dir, 'vacation')).toBe(true);
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
