/**
 * Real, hostile filesystems for the tests in test/hostile/: size- and
 * inode-limited tmpfs mounts, read-only remounts, and an ext4 image on a loop
 * device that can be shut down (every later call fails with EIO). Needs root
 * and a kernel that allows the mounts; probe() says why not, so a test file can
 * skip loudly instead of passing silently.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const isRoot = process.getuid?.() === 0;

const run = (cmd: string, args: string[]): void => {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Prints the loud skip banner the other suites use. */
export function warnSkipped(file: string, why: string): void {
  console.warn(`\n*** SKIPPED ${file}: ${why} ***\n`);
}

/** mountTmpfs mounts a fresh tmpfs at dir (created) with the given size ('2m') and inode limit. */
export function mountTmpfs(dir: string, size: string, inodes?: number): void {
  mkdirSync(dir, { recursive: true });
  run('mount', ['-t', 'tmpfs', '-o', `size=${size}${inodes ? `,nr_inodes=${inodes}` : ''},mode=0755`, 'tmpfs', dir]);
}

export function remount(dir: string, opts: string): void {
  run('mount', ['-o', `remount,${opts}`, dir]);
}

/** unmount detaches dir, lazily if something still has it open (never fails a test's cleanup). */
export function unmount(dir: string): void {
  try {
    run('umount', [dir]);
  } catch {
    try {
      run('umount', ['-l', dir]);
    } catch {
      // not mounted (the mount itself failed)
    }
  }
}

/**
 * probeTmpfs checks that this process may mount, remount read-only and unmount
 * a limited tmpfs. Returns null when it can, else why not.
 */
export function probeTmpfs(scratch: string): string | null {
  if (!isRoot) return 'needs root (mount(2) of a size-limited tmpfs)';
  const dir = join(scratch, 'probe-tmpfs');
  try {
    mountTmpfs(dir, '64k', 16);
  } catch (err) {
    return `the kernel refused a tmpfs mount: ${stderrOf(err)}`;
  }
  try {
    remount(dir, 'ro');
    return null;
  } catch (err) {
    return `the kernel refused a read-only remount: ${stderrOf(err)}`;
  } finally {
    unmount(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Free bytes for an unprivileged writer on the filesystem holding path. */
export function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/** Free inodes on the filesystem holding path. */
export function freeInodes(path: string): number {
  return statfsSync(path).ffree;
}

/** fillInodes creates empty files in dir until the inode table is full; returns how many. */
export function fillInodes(dir: string): number {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; ; i++) {
    try {
      closeSync(openSync(join(dir, `f${i}`), 'wx'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return i;
      throw err;
    }
  }
}

/** fillSpace writes one file until the filesystem is full; returns its size. */
export function fillSpace(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x66);
  let size = 0;
  try {
    for (;;) {
      try {
        size += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
    // the last partial page: write what still fits, byte-sized chunks
    for (const n of [4096, 512, 1]) {
      for (;;) {
        try {
          size += writeSync(fd, chunk, 0, n);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return size;
}

/**
 * An ext4 image on a loop device. shutdown() uses EXT4_IOC_SHUTDOWN (what
 * xfstests' godown does): from then on every call on it fails with EIO, as on a
 * dying disk. Remount it (unmount + mount()) to look at what reached the disk.
 */
export interface LoopFs {
  dir: string;
  mount(): void;
  shutdown(): void;
  unmount(): void;
}

/** EXT4_IOC_SHUTDOWN = _IOR('X', 125, __u32); flag 1 = EXT4_GOING_FLAGS_LOGFLUSH (journal flushed first). */
const SHUTDOWN_PERL = 'open(my $fh, "<", $ARGV[0]) or die "open: $!\\n"; my $f = pack("L", 1); ioctl($fh, 0x8004587d, $f) or die "ioctl: $!\\n";';

export function makeLoopExt4(scratch: string, sizeMb = 16): LoopFs {
  const img = join(scratch, 'ext4.img');
  const dir = join(scratch, 'ext4');
  mkdirSync(dir, { recursive: true });
  run('truncate', ['-s', `${sizeMb}M`, img]);
  run('mkfs.ext4', ['-q', '-F', img]);
  const fs: LoopFs = {
    dir,
    mount: () => run('mount', ['-o', 'loop', img, dir]),
    shutdown: () => run('perl', ['-e', SHUTDOWN_PERL, dir]),
    unmount: () => unmount(dir),
  };
  return fs;
}

/** probeLoopShutdown: can we mount an ext4 image on a loop device and shut it down? null when yes. */
export function probeLoopShutdown(scratch: string): string | null {
  if (!isRoot) return 'needs root (loop mount of an ext4 image)';
  const dir = join(scratch, 'probe-loop');
  mkdirSync(dir, { recursive: true });
  try {
    const fs = makeLoopExt4(dir, 8);
    try {
      fs.mount();
    } catch (err) {
      return `the kernel refused a loop mount of ext4: ${stderrOf(err)}`;
    }
    try {
      fs.shutdown();
      try {
        writeFileSync(join(fs.dir, 'after-shutdown'), 'x');
        return 'EXT4_IOC_SHUTDOWN had no effect (a file could still be created)';
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return code === 'EIO' ? null : `after EXT4_IOC_SHUTDOWN a create failed with ${code}, not EIO`;
      }
    } catch (err) {
      return `EXT4_IOC_SHUTDOWN refused (perl or the ioctl): ${stderrOf(err)}`;
    } finally {
      fs.unmount();
    }
  } catch (err) {
    return `cannot build an ext4 image (truncate, mkfs.ext4): ${stderrOf(err)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: Buffer; message?: string };
  return (e.stderr?.toString().trim() || e.message || String(err)).split('\n')[0]!;
}
