// bench/lib/server-process.mjs: owns the server processes a bench starts: each in its own
// process group with its output in DIR/server.out; stop() ends exactly that group (SIGTERM, a
// bounded wait, SIGKILL), and a process-exit hook kills whatever is left.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const live = new Set(); // servers started and not yet seen to exit
process.on('exit', () => {
  for (const s of live) s.killGroup('SIGKILL');
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A server process in its own process group, its stdout/stderr in DIR/server.out. */
export function startProcess(name, dir, cmd, args, env, defaultGraceMs = 15_000) {
  const outPath = join(dir, 'server.out');
  const out = openSync(outPath, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env });
  closeSync(out);
  let exited = null;
  const exitP = new Promise((res) => child.once('exit', (code, sig) => res((exited = code ?? sig))));
  child.once('error', () => (exited ??= 'spawn failed'));
  const s = {
    name,
    pid: child.pid,
    output: () => {
      try {
        return readFileSync(outPath, 'utf8').trim().split('\n').slice(-5).join('\n');
      } catch {
        return '';
      }
    },
    exited: () => exited,
    killGroup(sig) {
      try {
        process.kill(-child.pid, sig); // the group leader is the child we started
      } catch {}
    },
    /** SIGTERM, a bounded wait, then SIGKILL to the group (any worker left behind). */
    async stop(graceMs = defaultGraceMs) {
      if (exited === null) {
        child.kill('SIGTERM');
        await Promise.race([exitP, sleep(graceMs)]);
      }
      s.killGroup('SIGKILL');
      await Promise.race([exitP, sleep(5_000)]);
      live.delete(s);
    },
  };
  live.add(s);
  exitP.then(() => live.delete(s));
  return s;
}
