/**
 * Resolves `[lmtp] socket_owner` / `socket_group` (and `user`) to ids at start-up: a
 * number is taken as it is, a user name through privileges/accounts.ts, a group name
 * from /etc/group, else `getent group` (NSS: LDAP, sssd). Must not: change ownership
 * or privileges (listen.ts, lmtp command).
 */
import { execFile } from 'node:child_process';
import { readFile } from '../io/fs-async.js';
import { findAccount, type Account } from '../privileges/accounts.js';

/** resolveUser: the account named `name` (or numbered); throws a sentence when there is none. */
export async function resolveUser(name: string, signal: AbortSignal): Promise<Account> {
  const r = await findAccount(name, signal);
  if (r.kind === 'found') return r.account;
  if (/^\d+$/.test(name)) return { name, uid: Number(name), gid: Number(name), home: '/' };
  throw new Error(r.kind === 'absent' ? `no such user: ${name}` : `cannot look up user ${name}: ${r.why}`);
}

/** resolveUid: '' = -1 (leave the owner as it is). */
export async function resolveUid(name: string, signal: AbortSignal): Promise<number> {
  if (name === '') return -1;
  if (/^\d+$/.test(name)) return Number(name);
  return (await resolveUser(name, signal)).uid;
}

/** resolveGid: '' = -1 (leave the group as it is). */
export async function resolveGid(name: string, signal: AbortSignal): Promise<number> {
  if (name === '') return -1;
  if (/^\d+$/.test(name)) return Number(name);
  const fromFile = groupLine(await readFile('/etc/group').then((b) => b.toString('utf8'), () => ''), name);
  if (fromFile !== undefined) return fromFile;
  const fromNss = await new Promise<string>((resolve) =>
    execFile('getent', ['group', '--', name], { signal }, (err, stdout) => resolve(err ? '' : stdout)),
  );
  const gid = groupLine(fromNss, name);
  if (gid === undefined) throw new Error(`no such group: ${name}`);
  return gid;
}

/** groupLine: the gid of `name` in group(5) text. */
function groupLine(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 3 && /^\d+$/.test(f[2]!)) return Number(f[2]);
  }
  return undefined;
}
