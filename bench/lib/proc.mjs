// bench/lib/proc.mjs: owns reading a server's cost from /proc (Linux): the CPU seconds of a
// process tree (a server and every process it forked, live or already reaped) and the peak
// resident set (VmHWM) of each process in it. Reads only; never signals anything.
import { readdirSync, readFileSync } from 'node:fs';

const HZ = 100; // USER_HZ: the unit of the times in /proc/PID/stat on Linux

/** Fields after the command name of /proc/PID/stat (0 = state, 1 = ppid, 11 utime, 12 stime, 13 cutime, 14 cstime), or null. */
function statFields(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** treePids: `root` and all its live descendants (one pass over /proc). */
export function treePids(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(name);
    if (!f) continue;
    const list = children.get(f[1]) ?? [];
    list.push(name);
    children.set(f[1], list);
  }
  const out = [];
  const todo = [String(root)];
  while (todo.length) {
    const pid = todo.pop();
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * treeCpu: CPU seconds (user + system) spent so far by `root`'s tree. Each live process counts
 * its own time plus that of the children it has reaped (cutime, cstime), so a worker that
 * already exited is counted once, in its parent. NaN when `root` is gone.
 */
export function treeCpu(root) {
  if (!statFields(root)) return NaN;
  let ticks = 0;
  for (const pid of treePids(root)) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / HZ;
}

/** vmHwmKb: a process's peak resident set in KiB (VmHWM in /proc/PID/status), or NaN. */
export function vmHwmKb(pid) {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** procName: the command name of a process (/proc/PID/comm), or ''. */
export function procName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
