// bench/lib/lmtp-servers.mjs: owns the two LMTP servers the `lmtp` bench drives, each a
// private instance in its own directory on a unix socket, delivering as one unprivileged
// uid into its own Maildir tree: `mda lmtp` (virtual-users mode, `[lmtp] user`) and
// Dovecot's LMTP (`dovecot -F` with its own base_dir, a static userdb, mail_fsync =
// optimized). Starting waits (bounded) until the socket answers; stop() ends exactly the
// process group this module started, and a process-exit hook kills whatever is left.
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLmtp } from './lmtp-client.mjs';
import { sleep, startProcess } from './server-process.mjs';



/** waitReady: the socket exists and a client gets its greeting and LHLO answered (bounded). */
async function waitReady(s, sock, log, timeoutMs = 20_000) {
  const t0 = Date.now();
  for (;;) {
    if (s.exited() !== null) throw new Error(`${s.name} exited (${s.exited()}) during start-up: ${s.output()} ${log()}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${s.name} did not answer on ${sock} within ${timeoutMs} ms: ${s.output()} ${log()}`);
    if (existsSync(sock)) {
      try {
        const c = await openLmtp(sock, { timeoutMs: 5_000 });
        await c.quit();
        return c.lhlo;
      } catch {}
    }
    await sleep(50);
  }
}

const tail = (path) => () => {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
};

/**
 * startMda: `node bin/mda lmtp` on DIR/lmtp.sock, as root switching to `as` ({ name, uid, gid }),
 * one `[users.NAME]` per local part into DIR/mail/NAME, spool on the same filesystem, logging
 * each delivery to a file (as Dovecot logs each one to its log_path). `nodeArgs` go before
 * bin/mda (e.g. --cpu-prof --cpu-prof-dir=DIR, a directory `as` may write: the profile is
 * written at exit, after the switch).
 */
export async function startMda({ dir, bin, node, nodeArgs = [], as, locals, maxMessageSize }) {
  const mail = join(dir, 'mail');
  mkdirSync(mail, { recursive: true });
  chownSync(mail, as.uid, as.gid);
  const sock = join(dir, 'lmtp.sock');
  const logPath = join(dir, 'mda.log');
  const config = join(dir, 'mda.toml');
  writeFileSync(config, [
    '[log]', `target = "file:${logPath}"`,
    '[delivery]', `max_message_size = ${maxMessageSize}`,
    '[lmtp]', `user = "${as.name}"`, `spool_dir = "${join(mail, '.spool')}"`, 'shutdown_grace = "2s"',
    ...locals.flatMap((u) => [`[users.${u}]`, `maildir = "${join(mail, u)}"`]),
    '',
  ].join('\n'), { mode: 0o644 });
  const args = [...nodeArgs, bin, 'lmtp', '--listen', `unix:${sock}`, '--config', config];
  const s = startProcess('mda lmtp', dir, node, args, { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C' });
  const lhlo = await waitReady(s, sock, tail(logPath));
  return { ...s, sock, lhlo, config, recipe: `node bin/mda lmtp --listen unix:${sock} --config ${config}`, maildir: (u) => join(mail, u) };
}

/**
 * startDovecot: `dovecot -F -c DIR/dovecot.conf`, reading nothing under /etc/dovecot; LMTP only,
 * on DIR/lmtp.sock; a static userdb maps every user@domain to `as` with home DIR/home/USER and
 * Maildir ~/Maildir; the lmtp service itself runs as `as` (as mda does with [lmtp] user).
 */
export async function startDovecot({ dir, bin, as }) {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  chownSync(home, as.uid, as.gid);
  const sock = join(dir, 'lmtp.sock');
  const logPath = join(dir, 'dovecot.log');
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, [
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `log_path = ${logPath}`,
    'ssl = no',
    'protocols = lmtp',
    'listen = 127.0.0.1',
    'default_internal_user = dovecot',
    'default_login_user = dovenull',
    'mail_location = maildir:~/Maildir',
    'mail_fsync = optimized',
    'postmaster_address = postmaster@example.net',
    'passdb {', '  driver = static', '  args = nopassword=y', '}',
    'userdb {', '  driver = static', `  args = uid=${as.uid} gid=${as.gid} home=${home}/%n allow_all_users=yes`, '}',
    'service lmtp {', `  user = ${as.name}`, '  unix_listener lmtp {', `    path = ${sock}`, '    mode = 0600', '  }', '}',
    '',
  ].join('\n'), { mode: 0o644 });
  const s = startProcess('dovecot lmtp', dir, bin, ['-F', '-c', conf], { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' });
  const lhlo = await waitReady(s, sock, tail(logPath));
  return { ...s, sock, lhlo, config: conf, recipe: `dovecot -F -c ${conf}`, maildir: (u) => join(home, u, 'Maildir') };
}
