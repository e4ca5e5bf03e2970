/**
 * What the Dovecot interop tests share: where doveadm is, and running it
 * daemonless (USER/HOME from the environment, no auth service) against a test's config.
 * Must not: write Dovecot configs (each test's own) or start a Dovecot daemon.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const DOVEADM = ['/usr/bin/doveadm', '/usr/sbin/doveadm', '/usr/local/bin/doveadm'].find((p) => existsSync(p));

/** doveadmText runs one doveadm command against `conf` as USER `user` with HOME `home`; its stdout, or it throws. */
export function doveadmText(conf: string, user: string, home: string, args: string[], timeout = 30_000): string {
  if (!DOVEADM) throw new Error('doveadm is needed');
  const r = spawnSync(DOVEADM, ['-c', conf, ...args], { env: { PATH: process.env.PATH, USER: user, HOME: home }, encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`doveadm ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
