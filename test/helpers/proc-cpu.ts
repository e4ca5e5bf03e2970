/**
 * CPU seconds a process has used so far, from /proc/PID/stat (utime + stime, in clock ticks),
 * for the figures incident replays report (e.g. the policy server's CPU per refused message).
 * Linux only. Must not: decide pass or fail, or count the process's children.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux almost everywhere). */
export function clockTicks(): number {
  const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

/** cpuSeconds - utime + stime of pid; fields 14 and 15 of stat(5), counted after the ")" of comm. */
export function cpuSeconds(pid: number, ticks: number = clockTicks()): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / ticks;
}
