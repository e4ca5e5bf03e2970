/**
 * `mda lmtp --listen ADDR ... [--config FILE]`: the long-running LMTP server, in the
 * foreground. Start-up order: config, logger (its file opened while still root), sockets
 * (chmod/chown), then at most one switch to `[lmtp] user`, and only then connections are
 * served. Returns the exit status (0 after SIGTERM/SIGINT); prints only fatal start-up
 * errors. Must not: speak LMTP itself (the handler does) or deliver.
 */
import { hostname } from 'node:os';
import { ConfigError, findConfigPath, loadConfig, loadConfigAsync } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { Deadline } from '../../deadline/deadline.js';
import { runningAsRoot } from '../../io/trusted-path.js';
import { createLogger } from '../../log/logger.js';
import { routeProcessWarnings } from '../../log/warnings.js';
import { runningAccount, type Account } from '../../privileges/accounts.js';
import { switchToAccount } from '../../privileges/switch-user.js';
import type { ServerLimits, ServerReplies } from '../../server/handler.js';
import { runLifecycle, type SignalSource } from '../../server/lifecycle.js';
import { parseListenAddress, type ListenAddress } from '../../server/listen-address.js';
import { ListenError, openListeners, type OpenListener } from '../../server/listen.js';
import { lmtpHandler } from '../../lmtp/lmtp-handler.js';
import { defaultSpoolDir, prepareSpoolDir, removeStaleSpoolFiles } from '../../lmtp/spool-dir.js';
import { createNameSource } from '../../maildir/name-source.js';
import { recipientRules, type RecipientRules } from '../../recipients/rules.js';
import { systemAccounts } from '../../recipients/resolve.js';
import { MemoryBreakerStore } from '../../scanners/breaker-store.js';
import { UidWorkers } from '../../session/uid-workers.js';
import { LineServer } from '../../server/server.js';
import { resolveGid, resolveUid, resolveUser } from '../../server/socket-owner.js';

/** The argument that makes the CLI a per-uid delivery worker (session/uid-worker-main.ts) instead of a command. */
export const UID_WORKER_ARG = '--mda-uid-worker';

export const describe = 'Run the LMTP delivery server in the foreground (see mda-lmtp(8))';

/** sysexits: bad command line, bad config (or a user it names that does not exist), cannot listen or switch user. */
const EX_USAGE = 64;
const EX_UNAVAILABLE = 69;
const EX_SOFTWARE = 70;
const EX_CONFIG = 78;
/** User and socket owner lookups at start-up (getent may ask LDAP). */
const STARTUP_LOOKUP_MS = 30_000;

/** RFC 2033 §4.2 / RFC 5321 §4.2, with RFC 3463 enhanced codes (every reply carries one once LHLO offers them). */
export const LMTP_SERVER_REPLIES: ServerReplies = {
  busy: '421 4.3.2 Too many connections, try again later',
  idle: '421 4.4.2 Idle timeout, closing connection',
  lineTooLong: '500 5.5.2 Line too long', // RFC 5321 §4.5.3.1.10
  shutdown: '421 4.3.2 Server shutting down, try again later',
  error: '421 4.3.0 Internal error, closing connection',
};

export interface LmtpArgs {
  listen: string[];
  config?: string;
}

export interface LmtpIo {
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  signals?: SignalSource;
}

const processIo = (): LmtpIo => ({ err: process.stderr, env: process.env });

const limitsOf = (c: Config): ServerLimits => ({
  maxConnections: c.lmtp.maxConnections,
  idleTimeoutMs: c.lmtp.idleTimeoutMs,
  maxLineLength: c.lmtp.maxLineLength,
});

/** lmtpServe runs the server until a signal stops it; the promise holds the exit status. */
export async function lmtpServe(args: LmtpArgs, io: LmtpIo = processIo()): Promise<number> {
  const fatal = (code: number, msg: string): number => (io.err.write(`mda lmtp: ${msg}\n`), code);
  const addresses: ListenAddress[] = [];
  for (const text of args.listen) {
    const r = parseListenAddress(text);
    if (!r.ok) return fatal(EX_USAGE, `--listen ${r.why}`);
    addresses.push(r.address);
  }
  if (addresses.length === 0) return fatal(EX_USAGE, 'name at least one --listen address');

  const configPath = findConfigPath(args.config, io.env);
  let config: Config;
  try {
    config = loadConfig(configPath);
  } catch (err) {
    if (err instanceof ConfigError) return fatal(EX_CONFIG, err.message.replace(/\n/g, '\nmda lmtp: '));
    throw err;
  }

  const root = runningAsRoot();
  const me = runningAccount();
  const user = config.lmtp.user;
  if (!root && user !== '' && user !== me.name && user !== String(me.uid)) {
    return fatal(EX_CONFIG, `${config.source}: [lmtp] user = ${JSON.stringify(user)}, but mda runs as ${me.name} and only root can switch users`);
  }
  const lookups = Deadline.start(STARTUP_LOOKUP_MS, { graceMs: 0, onHardStop: () => undefined });
  let account: Account | undefined;
  let socketIds: { uid: number; gid: number };
  try {
    if (root && user !== '') account = await lookups.race(resolveUser(user, lookups.signal));
    socketIds = {
      uid: await lookups.race(resolveUid(config.lmtp.socketOwner, lookups.signal)),
      gid: await lookups.race(resolveGid(config.lmtp.socketGroup, lookups.signal)),
    };
  } catch (err) {
    return fatal(EX_CONFIG, `${config.source}: [lmtp]: ${(err as Error).message}`);
  } finally {
    lookups.dispose();
  }

  // Opened as root, before the switch, like deliver's: a root-owned log file keeps working.
  const logger = createLogger(config.log.target, 'mda', io.env['MDA_SYSLOG_SOCKET'] || undefined, { maxLines: Infinity, stderrNow: true });
  routeProcessWarnings().attach(logger); // nothing on stderr but fatal start-up errors

  let listeners: OpenListener[];
  const opening = Deadline.start(STARTUP_LOOKUP_MS, { graceMs: 0, onHardStop: () => undefined });
  try {
    listeners = await openListeners(addresses, { mode: config.lmtp.socketMode, ...socketIds }, opening.signal);
  } catch (err) {
    if (err instanceof ListenError) return fatal(EX_UNAVAILABLE, err.message);
    throw err;
  } finally {
    opening.dispose();
  }

  // Once, before any connection is served: a server never changes uid with work in flight.
  if (account) {
    try {
      switchToAccount(account);
    } catch (err) {
      await Promise.all(listeners.map((l) => l.close()));
      return fatal(EX_UNAVAILABLE, `cannot switch to [lmtp] user ${user}: ${(err as Error).message}`);
    }
  }

  // Made by the uid that serves (after the switch), so every spool file is that uid's own.
  const spoolDir = config.lmtp.spoolDir || defaultSpoolDir(process.geteuid?.() ?? 0);
  try {
    await prepareSpoolDir(spoolDir);
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    return fatal(EX_UNAVAILABLE, `[lmtp] spool_dir: ${(err as Error).message}`);
  }
  // Before serving: a crashed predecessor's spool files (only old ones: another server may share the dir).
  const swept = await removeStaleSpoolFiles(spoolDir);
  if (swept.removed.length > 0) logger.info(`removed ${swept.removed.length} stale spool file(s) from ${spoolDir}/tmp`);
  for (const p of swept.problems) logger.warn(`stale spool file not removed: ${p}`);

  let current = config;
  // Compiled once per config (start and each reload), not per RCPT.
  let rules: RecipientRules = recipientRules(current, { virtualOnly: user !== '' });
  const host = hostname();
  const names = createNameSource(); // one per process, shared by every transaction
  const breakers = new MemoryBreakerStore(); // one per server: a scanner found down is down for every connection
  // System-users mode: each recipient of another uid is committed by that uid's worker, this same CLI.
  const systemUsers = root && !account;
  const workerEntry = { execPath: process.execPath, args: [process.argv[1] ?? '', UID_WORKER_ARG] };
  let workers = systemUsers ? new UidWorkers(workerEntry, current) : undefined;
  const startedAsRoot = root;
  const server = new LineServer({
    limits: limitsOf(current),
    replies: LMTP_SERVER_REPLIES,
    logger,
    createHandler: (conn) =>
      lmtpHandler(
        {
          hostname: host,
          logger,
          config: () => current,
          rules: () => rules,
          accounts: (signal) => systemAccounts(signal, account ?? me),
          transactionDeps: () => ({ config: current, logger, names, breakers, workers, spoolDir, startedAsRoot }),
        },
        conn,
      ),
  });
  const life = runLifecycle({
    server,
    logger,
    graceMs: () => current.lmtp.shutdownGraceMs,
    signals: io.signals,
    reload: async () => {
      const next = await loadConfigAsync(configPath);
      for (const change of restartOnlyChanges(current, next)) logger.warn(`SIGHUP: ${change} changes only at restart`);
      current = next;
      rules = recipientRules(next, { virtualOnly: user !== '' });
      // Workers hold the config they started with: new ones for the new config; the old finish their jobs.
      if (workers) {
        workers.close();
        workers = new UidWorkers(workerEntry, next);
      }
      server.setLimits(limitsOf(next));
    },
  });
  // A bug outside any connection's handler: log it and shut down cleanly rather than die mid-transaction.
  const onBug = (err: unknown) => {
    logger.error(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    life.stop('internal error', EX_SOFTWARE);
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);

  const mode = account ? `as ${account.name} (virtual users)` : root ? 'as root (system users: each recipient is committed with its own uid)' : `as ${me.name}`;
  for (const l of listeners) {
    server.serve(l);
    logger.info(`listening on ${l.bound} ${mode}`);
  }
  const code = await life.done;
  workers?.close();
  process.off('uncaughtException', onBug);
  process.off('unhandledRejection', onBug);
  await logger.flush();
  return code;
}

/** The settings a running server cannot take over: sockets are open and the user switched once. */
function restartOnlyChanges(a: Config, b: Config): string[] {
  const out: string[] = [];
  if (a.lmtp.user !== b.lmtp.user) out.push('[lmtp] user');
  if (a.lmtp.socketMode !== b.lmtp.socketMode || a.lmtp.socketOwner !== b.lmtp.socketOwner || a.lmtp.socketGroup !== b.lmtp.socketGroup) out.push('[lmtp] socket_mode/socket_owner/socket_group');
  if (JSON.stringify(a.log.target) !== JSON.stringify(b.log.target)) out.push('[log] target');
  if (a.lmtp.spoolDir !== b.lmtp.spoolDir) out.push('[lmtp] spool_dir');
  return out;
}
