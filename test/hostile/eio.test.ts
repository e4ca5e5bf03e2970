/**
 * A Maildir whose filesystem starts failing with EIO (a dying disk), made real
 * with an ext4 image on a loop device shut down by EXT4_IOC_SHUTDOWN: before
 * the delivery and in the middle of a message. mda must defer (75, 4.3.0),
 * never exit 0, never crash; after a remount, new/ holds no partial message,
 * and the partial tmp/ file the dead disk kept is removed by a later delivery.
 * Needs root, loop devices and perl (Debian's perl-base); skipped loudly otherwise.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUIET_CONFIG, listDir, runMda, tempDir } from '../helpers/run-mda.js';
import { makeLoopExt4, probeLoopShutdown, warnSkipped, type LoopFs } from './mounts.js';

const FILE = 'test/hostile/eio.test.ts';
const probeDir = mkdtempSync(join(tmpdir(), 'mda-probe-'));
const skipReason = probeLoopShutdown(probeDir);
rmSync(probeDir, { recursive: true, force: true });
if (skipReason) warnSkipped(FILE, skipReason);

let t: ReturnType<typeof tempDir>;
let disk: LoopFs;
let md: string;
let cfg: string;
beforeEach(() => {
  if (skipReason) return;
  t = tempDir('mda-hostile-');
  disk = makeLoopExt4(t.dir);
  disk.mount();
  md = join(disk.dir, 'Maildir');
  cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, QUIET_CONFIG + '[quota]\nstorage = "100M"\n');
});
afterEach(() => {
  if (skipReason) return;
  disk.unmount();
  t.cleanup();
});

const message = (id: string, body = 'hello\n') => `Message-ID: <${id}@hostile.test>\nSubject: ${id}\n\n${body}`;
const deliver = (input: string) => runMda(['deliver', '--config', cfg, '--maildir', md], { input });

/** Remounts the image and returns what reached the disk. */
function afterRemount(): { new: string[]; tmp: string[] } {
  disk.unmount();
  disk.mount();
  return { new: listDir(join(md, 'new')), tmp: listDir(join(md, 'tmp')) };
}

describe.skipIf(skipReason !== null)('EIO from the Maildir filesystem (ext4 on loop, EXT4_IOC_SHUTDOWN)', () => {
  it('shut down before the delivery: 75 4.3.0 I/O error, not a crash', async () => {
    expect((await deliver(message('first'))).code).toBe(0);
    disk.shutdown();
    const r = await deliver(message('eio'));
    expect(r.signal).toBeNull();
    expect(r.code, r.output).toBe(75);
    expect(r.output).toMatch(/^4\.3\.0 I\/O error: .*EIO/);
    const seen = afterRemount();
    expect(seen.new).toHaveLength(1);
    expect(readFileSync(join(md, 'new', seen.new[0]!), 'utf8')).toBe(message('first'));
  });

  it('shut down in the middle of a message: 75 4.3.0, and no partial message in new/ after a remount', async () => {
    expect((await deliver(message('first'))).code).toBe(0);
    const chunk = Buffer.alloc(256 * 1024, 0x62);
    const r = await runMda(['deliver', '--config', cfg, '--maildir', md], {
      keepStdinOpen: true,
      onSpawn: (child) => {
        child.stdin!.write(message('mid', ''));
        child.stdin!.write(chunk);
        const waitForSpool = setInterval(() => {
          if (listDir(join(md, 'tmp')).length === 0) return; // not spooling yet
          clearInterval(waitForSpool);
          disk.shutdown();
          child.stdin!.write(chunk);
          child.stdin!.end(chunk);
        }, 5);
      },
    });
    expect(r.signal).toBeNull();
    expect(r.code, r.output).toBe(75);
    expect(r.output).toMatch(/^4\.3\.0 I\/O error: .*EIO/);
    const seen = afterRemount();
    expect(seen.new).toHaveLength(1);
    expect(readFileSync(join(md, 'new', seen.new[0]!), 'utf8')).toBe(message('first'));
    // The unlink of the partial file failed with EIO too; whatever reached the disk
    // is an abandoned tmp/ file, removed by a later delivery after 36 h (tmp-cleanup.ts).
    if (seen.tmp.length) console.log(`eio: ${seen.tmp.length} abandoned tmp/ file(s) after the remount (the unlink failed with EIO)`);
    // 37 hours later (simulated), the next delivery that scans tmp/ removes them.
    const old = (Date.now() - 37 * 3_600_000) / 1000;
    for (const f of seen.tmp) utimesSync(join(md, 'tmp', f), old, old);
    utimesSync(join(md, 'tmp'), (Date.now() - 9 * 3_600_000) / 1000, statSync(join(md, 'tmp')).mtimeMs / 1000);
    expect((await deliver(message('later'))).code).toBe(0);
    expect(listDir(join(md, 'tmp'))).toEqual([]);
  });
});
