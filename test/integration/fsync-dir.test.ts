/**
 * fsyncDir (src/io/fs-async.ts) returns after the fsync and closes the directory
 * afterwards: a server calling it for every copy must still leave no descriptor open.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fsyncDir } from '../../src/io/fs-async.js';

const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('fsyncDir', () => {
  it('leaves no directory descriptor open after many calls', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mda-fsyncdir-'));
    try {
      const before = openFds();
      for (let i = 0; i < 300; i++) await fsyncDir(dir);
      for (let i = 0; i < 50 && openFds() > before; i++) await tick();
      expect(openFds()).toBe(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails on a directory that does not exist, and leaves nothing open', async () => {
    const before = openFds();
    await expect(fsyncDir('/nonexistent/mda-fsyncdir')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(openFds()).toBe(before);
  });
});
