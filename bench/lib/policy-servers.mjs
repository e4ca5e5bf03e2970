// bench/lib/policy-servers.mjs: owns the policy servers the `policy` bench drives, each a
// private instance in its own directory on a unix socket, looking up the same recipients in
// its own copy of the same Maildir tree (Maildir++ `maildirsize`, 1 MiB limit in its header),
// owned by one unprivileged uid: `mda policy` (virtual users, `[policy] user`) and Dovecot's
// `quota-status -p postfix` (`dovecot -F` with its own base_dir, `protocols =` empty, the quota
// plugin with a Maildir quota, a passwd-file userdb). Starting waits (bounded) until one
// request is answered; stop() ends exactly the process group this module started, and a
// process-exit hook kills whatever is left.
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPolicy, smtpdRequest } from './policy-client.mjs';
import { sleep, startProcess } from './server-process.mjs';


/** The quota both servers enforce: Dovecot's `quota_rule = *:storage=1M`, the maildirsize header mda reads. */
export const LIMIT_BYTES = 1 << 20;

/**
 * makeMailboxes: DIR/home/NAME/Maildir for each user, owned by `as`, each with a fresh
 * maildirsize: `full` users are already past the limit plus Dovecot's default 10% grace, so
 * both servers call them full whatever the declared SIZE; the others hold 1,000 bytes.
 */
export function makeMailboxes(dir, users, as) {
  const home = join(dir, 'home');
  for (const u of users) {
    const md = join(home, u.name, 'Maildir');
    for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(md, sub), { recursive: true });
    const used = u.full ? Math.ceil(LIMIT_BYTES * 1.2) : 1000;
    writeFileSync(join(md, 'maildirsize'), `${LIMIT_BYTES}S\n${used} ${u.full ? 30 : 3}\n`);
    for (const p of [join(home, u.name), md, join(md, 'new'), join(md, 'cur'), join(md, 'tmp'), join(md, 'maildirsize')]) chownSync(p, as.uid, as.gid);
  }
  chownSync(home, as.uid, as.gid);
  return { home, maildir: (name) => join(home, name, 'Maildir') };
}


const tail = (path) => () => {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
};

/** waitReady: the socket exists and one request for `probe` is answered (bounded). */
async function waitReady(s, sock, probe, log, timeoutMs = 20_000) {
  const t0 = Date.now();
  for (;;) {
    if (s.exited() !== null) throw new Error(`${s.name} exited (${s.exited()}) during start-up: ${s.output()} ${log()}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${s.name} did not answer on ${sock} within ${timeoutMs} ms: ${s.output()} ${log()}`);
    if (existsSync(sock)) {
      let c;
      try {
        c = await openPolicy(sock, { timeoutMs: 5_000 });
        return await c.ask(smtpdRequest({ recipient: probe }));
      } catch {
      } finally {
        c?.close();
      }
    }
    await sleep(50);
  }
}

/**
 * startMdaPolicy: `node bin/mda policy` on DIR/policy.sock, as root switching to `as`
 * ({ name, uid, gid }), one `[users.NAME]` per known user, `[delivery] domains` = [domain],
 * no alias files, `[policy] cache_ttl` as given ('' = the default).
 */
export async function startMdaPolicy({ dir, bin, node, as, users, domain, cacheTtl, label }) {
  const boxes = makeMailboxes(dir, users, as);
  const sock = join(dir, 'policy.sock');
  const logPath = join(dir, 'mda.log');
  const config = join(dir, 'mda.toml');
  writeFileSync(config, [
    '[log]', `target = "file:${logPath}"`,
    '[delivery]', `domains = ["${domain}"]`,
    '[policy]', `user = "${as.name}"`, 'aliases = []', ...(cacheTtl ? [`cache_ttl = "${cacheTtl}"`] : []),
    ...users.flatMap((u) => [`[users.${u.name}]`, `maildir = "${boxes.maildir(u.name)}"`]),
    '',
  ].join('\n'), { mode: 0o644 });
  const args = [bin, 'policy', '--listen', `unix:${sock}`, '--config', config];
  const s = startProcess(label, dir, node, args, { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C' });
  await waitReady(s, sock, `${users[0].name}@${domain}`, tail(logPath));
  return { ...s, sock, config, boxes, recipe: `node bin/mda policy --listen unix:${sock} --config ${config}` };
}

/**
 * startDovecotQuotaStatus: `dovecot -F -c DIR/dovecot.conf`, reading nothing under /etc/dovecot;
 * no protocols, only the quota-status service (`-p postfix`, client_limit 1 as Dovecot's
 * documentation configures it) on DIR/quota-status.sock; a passwd-file userdb holding the
 * known users (an unknown one is NOTFOUND: quota_status_nouser); the answers set to mda's.
 */
export async function startDovecotQuotaStatus({ dir, bin, as, users, domain }) {
  const boxes = makeMailboxes(dir, users, as);
  const sock = join(dir, 'quota-status.sock');
  const logPath = join(dir, 'dovecot.log');
  const passwd = join(dir, 'users');
  writeFileSync(passwd, users.map((u) => `${u.name}@${domain}::${as.uid}:${as.gid}::${join(boxes.home, u.name)}::\n`).join(''), { mode: 0o644 });
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, [
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `log_path = ${logPath}`,
    'ssl = no',
    'protocols =',
    'listen = 127.0.0.1',
    'default_internal_user = dovecot',
    'default_login_user = dovenull',
    'mail_location = maildir:~/Maildir',
    'mail_plugins = quota',
    'passdb {', '  driver = passwd-file', `  args = ${passwd}`, '}',
    'userdb {', '  driver = passwd-file', `  args = ${passwd}`, '}',
    'plugin {',
    '  quota = maildir:User quota',
    '  quota_rule = *:storage=1M',
    '  quota_status_success = DUNNO',
    '  quota_status_nouser = 550 5.1.1 User unknown',
    '  quota_status_overquota = 552 5.2.2 Mailbox full',
    '}',
    'service quota-status {',
    '  executable = quota-status -p postfix',
    '  unix_listener quota-status {', `    path = ${sock}`, '    mode = 0600', '  }',
    '  client_limit = 1',
    '}',
    '',
  ].join('\n'), { mode: 0o644 });
  const s = startProcess('dovecot quota-status', dir, bin, ['-F', '-c', conf], { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' });
  await waitReady(s, sock, `${users[0].name}@${domain}`, tail(logPath));
  return { ...s, sock, config: conf, boxes, recipe: `dovecot -F -c ${conf} (service quota-status: quota-status -p postfix)` };
}
