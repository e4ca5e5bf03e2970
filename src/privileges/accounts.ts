/**
 * Looks up a local account by name: the running user from os.userInfo()
 * (no file read), else /etc/passwd, else `getent passwd` so NSS sources
 * (LDAP, sssd) work too. Must not: change privileges (switch-user.ts).
 */
import { createRequire } from 'node:module';
import { readFile } from '../io/fs-async.js';
import { userInfo } from 'node:os';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** parsePasswdLine reads one passwd(5) line; undefined when malformed. */
export function parsePasswdLine(line: string): Account | undefined {
  const f = line.split(':');
  if (f.length < 7 || !f[0]) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || f[2] === '' || f[3] === '') return undefined;
  return { name: f[0], uid, gid, home: f[5] ?? '' };
}

function current(): Account | undefined {
  try {
    const u = userInfo();
    return { name: u.username, uid: u.uid, gid: u.gid, home: u.homedir };
  } catch {
    return undefined; // the running uid has no passwd entry (containers): fall back to lookups
  }
}

async function fromPasswdFile(name: string): Promise<Account | undefined> {
  const text = (await readFile('/etc/passwd').catch(() => Buffer.alloc(0))).toString('utf8');
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ':')) return parsePasswdLine(line);
  }
  return undefined;
}

async function fromGetent(name: string, signal: AbortSignal): Promise<Account | undefined> {
  // Rarely needed: keep it off the startup path; require, not import(): bin/mda runs the bundle through vm.Script
  const { execFile } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', '--', name], { signal, timeout: 0 }, (err, stdout) => {
      if (!err) return resolve(parsePasswdLine(stdout.trim()));
      // getent exits 2 for "not found"; ENOENT: no getent on this system
      if ((err as { code?: unknown }).code === 2 || (err as { code?: unknown }).code === 'ENOENT') return resolve(undefined);
      reject(err);
    });
  });
}

/** lookupAccount finds a local account, or undefined when there is none. */
export async function lookupAccount(name: string, signal: AbortSignal): Promise<Account | undefined> {
  if (!/^[^:\n\0/]+$/.test(name)) return undefined;
  const me = current();
  if (me && me.name === name) return me;
  return (await fromPasswdFile(name)) ?? (await fromGetent(name, signal));
}

/** The account the process runs as (name may be a bare uid in containers). */
export function runningAccount(): Account {
  return current() ?? { name: String(process.geteuid?.() ?? ''), uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1, home: process.env.HOME ?? '/' };
}
