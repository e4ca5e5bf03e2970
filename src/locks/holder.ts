/**
 * The locks one session holds, so that a process ending by its own hand (a
 * signal, the watchdog, process.exit) leaves none of them behind: the front end
 * that owns the process calls releaseSync() from its 'exit' hook. One holder per
 * session: sessions in one process never see each other's locks.
 * Must not: take or wait for locks (acquire.ts), or install process hooks itself.
 */
import { removeIfOursSync, type LockContent } from './lock-file.js';

export class LockHolder {
  private readonly held = new Map<string, LockContent>();

  /** add records a lock just taken (its path and the token written in it). */
  add(path: string, content: LockContent): void {
    this.held.set(path, content);
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
    for (const [path, content] of [...this.held].reverse()) removeIfOursSync(path, content);
    this.held.clear();
  }
}
