/**
 * Runs test/fixtures/lock-holder.ts in child processes: bundled once with
 * esbuild into a temp file, so lock tests exercise the real lock manager across
 * real processes (signals, crashes) without a separate build step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { LockRequest } from '../../src/locks/plan.js';

let bundled: Promise<string> | undefined;
function bundle(): Promise<string> {
  bundled ??= (async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mda-lock-holder-')), 'lock-holder.cjs');
    await build({
      entryPoints: [fileURLToPath(new URL('../fixtures/lock-holder.ts', import.meta.url))],
      bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'warning',
    });
    return out;
  })();
  return bundled;
}

export interface HolderOptions {
  sets: LockRequest[][];
  holdMs?: number;
  timeoutMs?: number;
  staleMs?: number;
  deadlineMs?: number;
  log?: string;
  /** Exit (process.exit) while still holding the last set: the exit hook releases. */
  exitHolding?: boolean;
}

export interface Holder {
  child: ChildProcess;
  /** Resolves when the child printed "held <n>" for the first set. */
  held: Promise<void>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; elapsedMs: number }>;
}

export async function startHolder(o: HolderOptions): Promise<Holder> {
  const script = await bundle();
  const args = { holdMs: 0, timeoutMs: 2000, staleMs: 60_000, deadlineMs: 30_000, ...o };
  const started = performance.now();
  const child = spawn(process.execPath, [script, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let onHeld: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  child.stdout!.on('data', (d) => {
    output += d;
    if (output.includes('held 0')) onHeld();
  });
  child.stderr!.on('data', (d) => (output += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; elapsedMs: number }>((r) =>
    child.on('close', (code, signal) => r({ code, signal, output, elapsedMs: performance.now() - started })),
  );
  return { child, held, done };
}
