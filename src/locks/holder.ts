/**
 * The locks one session holds, so that a process ending by its own hand (a
 * signal, the watchdog, process.exit) leaves none of them behind: the front end
 * that owns the process calls releaseSync() from its 'exit' hook. One holder per
 * session: sessions in one process never see each other's locks.
 * Must not: take or wait for locks (acquire.ts), or install process hooks itself.
 */
import { removeIfOursSync, type LockContent } from './lock-file.js';

export class LockHolder {
  private readonly held = new Map<string, { content: LockContent; releaseSync?: () => void }>();

  /** add records a lock just taken (its path and the token written in it; releaseSync when removing it is not an unlink, e.g. dotlockfile -u). */
  add(path: string, content: LockContent, releaseSync?: () => void): void {
    this.held.set(path, { content, releaseSync });
  }

  /** remove forgets a lock once it has been released. */
  remove(path: string): void {
    this.held.delete(path);
  }

  get size(): number {
    return this.held.size;
  }

  /** releaseSync removes every lock still held, newest first, if it still holds our token. */
  releaseSync(): void {
    for (const [path, h] of [...this.held].reverse()) {
      if (h.releaseSync) h.releaseSync();
      else removeIfOursSync(path, h.content);
    }
    this.held.clear();
  }
}
