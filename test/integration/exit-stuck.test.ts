/**
 * Issue 9 finding 1, the exit half: a filesystem call stuck in the thread pool
 * when the outcome is known. Postfix defers on death by signal, so a stored
 * message must never end that way (every retry would store another copy): it
 * exits 0 once the call returns. A message not stored may still die by SIGKILL
 * (a deferral, the truth).
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as C, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/run-mda.js';

const VITE_NODE = fileURLToPath(new URL('../../node_modules/vite-node/vite-node.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('../fixtures/exit/stuck-after-outcome.ts', import.meta.url));

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('mda-exit-')));
afterEach(() => t.cleanup());

/** Runs the child; once it says "stuck", waits releaseAfterMs and then unblocks its open by opening the FIFO's other end. */
function run(outcome: string, releaseAfterMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const fifo = join(t.dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITE_NODE, CHILD, fifo, outcome], { stdio: ['ignore', 'pipe', 'inherit'] });
    const hard = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('child did not exit'))), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      if (!d.toString().includes('stuck')) return;
      setTimeout(() => {
        try {
          closeSync(openSync(fifo, C.O_WRONLY | C.O_NONBLOCK)); // ENXIO once the child is gone: nothing to release
        } catch {
          /* the child already ended */
        }
      }, releaseAfterMs);
    });
    child.on('close', (code, signal) => (clearTimeout(hard), resolve({ code, signal })));
  });
}

describe('exit with a filesystem call stuck in the thread pool', () => {
  it('stored: exits 0 once the call returns, never by a signal', async () => {
    const r = await run('delivered', 1_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  });

  it('not stored: dies by SIGKILL at once (Postfix defers), without waiting for the call', async () => {
    const r = await run('temp', 10_000);
    expect(r.signal).toBe('SIGKILL');
  });
});
