/**
 * `mda lmtp --listen ADDR ... [--config FILE] [--metrics HOST:PORT]`: the long-running LMTP
 * server, in the foreground, on the shared server start-up (server/serve-command.ts: config,
 * logger, sockets, the --metrics listener, at most one switch to `[lmtp] user`, lifecycle).
 * Owns what is LMTP's own: the server lines, the spool directory, recipient rules, per-uid
 * workers and the handler's dependencies. Must not: speak LMTP itself (the handler does),
 * deliver, or repeat the start-up.
 */
import { hostname } from 'node:os';
import type { Config } from '../../config/schema.js';
import { lmtpHandler } from '../../lmtp/lmtp-handler.js';
import { defaultSpoolDir, prepareSpoolDir, removeStaleSpoolFiles } from '../../lmtp/spool-dir.js';
import { createNameSource } from '../../maildir/name-source.js';
import { MaildirMemo } from '../../maildir/maildir-memo.js';
import { recipientRules, type RecipientRules } from '../../recipients/rules.js';
import { systemAccounts } from '../../recipients/resolve.js';
import { MemoryBreakerStore } from '../../scanners/breaker-store.js';
import type { ServerReplies } from '../../server/handler.js';
import { LmtpMetrics, breakerSamples } from '../../server/lmtp-metrics.js';
import { checkMetricsOption, openMetricsOption, type MetricsPage } from '../../server/metrics-option.js';
import { processServeIo, serveCommand, type ServeArgs, type ServeIo, type ServeSpec } from '../../server/serve-command.js';
import { UidWorkers } from '../../session/uid-workers.js';

/** The argument that makes the CLI a per-uid delivery worker (session/uid-worker-main.ts) instead of a command. */
export const UID_WORKER_ARG = '--mda-uid-worker';

export const describe = 'Run the LMTP delivery server in the foreground (see mda-lmtp(8))';

/** RFC 2033 §4.2 / RFC 5321 §4.2, with RFC 3463 enhanced codes (every reply carries one once LHLO offers them). */
export const LMTP_SERVER_REPLIES: ServerReplies = {
  busy: '421 4.3.2 Too many connections, try again later',
  idle: '421 4.4.2 Idle timeout, closing connection',
  lineTooLong: '500 5.5.2 Line too long', // RFC 5321 §4.5.3.1.10
  shutdown: '421 4.3.2 Server shutting down, try again later',
  error: '421 4.3.0 Internal error, closing connection',
};

export interface LmtpArgs extends ServeArgs {
  metrics?: string;
}

export const LMTP_SPEC: ServeSpec<LmtpArgs, MetricsPage> = {
  command: 'lmtp',
  section: '[lmtp]',
  server: (c) => ({
    user: c.lmtp.user,
    socketMode: c.lmtp.socketMode,
    socketOwner: c.lmtp.socketOwner,
    socketGroup: c.lmtp.socketGroup,
    limits: { maxConnections: c.lmtp.maxConnections, idleTimeoutMs: c.lmtp.idleTimeoutMs, maxLineLength: c.lmtp.maxLineLength },
    shutdownGraceMs: c.lmtp.shutdownGraceMs,
  }),
  replies: LMTP_SERVER_REPLIES,
  lineEnd: '\r\n',
  checkArgs: (args) => checkMetricsOption(args.metrics),
  beforeSwitch: ({ args }) => openMetricsOption(args.metrics),
  protocol: async ({ config, logger, account, root, me, opened, server }) => {
    // Made by the uid that serves (after the switch), so every spool file is that uid's own.
    const spoolDir = config.lmtp.spoolDir || defaultSpoolDir(process.geteuid?.() ?? 0);
    try {
      await prepareSpoolDir(spoolDir);
    } catch (err) {
      throw new Error(`[lmtp] spool_dir: ${(err as Error).message}`);
    }
    // Before serving: a crashed predecessor's spool files (only old ones: another server may share the dir).
    const swept = await removeStaleSpoolFiles(spoolDir);
    if (swept.removed.length > 0) logger.info(`removed ${swept.removed.length} stale spool file(s) from ${spoolDir}/tmp`);
    for (const p of swept.problems) logger.warn(`stale spool file not removed: ${p}`);
    // Fixed at start, as the switch itself: a reload cannot change the mode of a running server.
    const virtualOnly = config.lmtp.user !== '';
    let current = config;
    // Compiled once per config (start and each reload), not per RCPT.
    let rules: RecipientRules = recipientRules(current, { virtualOnly });
    const host = hostname();
    const names = createNameSource(); // one per process, shared by every transaction
    const breakers = new MemoryBreakerStore(); // one per server: a scanner found down is down for every connection
    const maildirs = new MaildirMemo(); // one per server: what it learned lately of each Maildir (maildir-memo.ts)
    // System-users mode: each recipient of another uid is committed by that uid's worker, this same CLI.
    const systemUsers = root && !account;
    const workerEntry = { execPath: process.execPath, args: [process.argv[1] ?? '', UID_WORKER_ARG] };
    let workers = systemUsers ? new UidWorkers(workerEntry, current) : undefined;
    const startedAsRoot = root;
    const metrics = new LmtpMetrics({
      activeConnections: () => server.active, // read at scrape time
      breakers: () => breakerSamples(current.scanners, (key) => breakers.peek(key), Date.now()),
    });
    opened?.show(() => metrics.render());
    return {
      createHandler: (conn) =>
        lmtpHandler(
          {
            hostname: host,
            logger,
            config: () => current,
            rules: () => rules,
            accounts: (signal) => systemAccounts(signal, account ?? me),
            transactionDeps: () => ({ config: current, logger, names, breakers, maildirs, workers, spoolDir, startedAsRoot }),
            metrics,
          },
          conn,
        ),
      apply: (next) => {
        const nextRules = recipientRules(next, { virtualOnly }); // a throw keeps the old config whole
        current = next;
        rules = nextRules;
        // Workers hold the config they started with: new ones for the new config; the old finish their jobs.
        if (workers) {
          workers.close();
          workers = new UidWorkers(workerEntry, next);
        }
      },
      close: () => workers?.close(),
    };
  },
  describeMode: (account, root, me) =>
    account ? `as ${account.name} (virtual users)` : root ? 'as root (system users: each recipient is committed with its own uid)' : `as ${me.name}`,
  // The spool directory was made and checked once, by the uid that serves.
  restartOnly: (a, b) => (a.lmtp.spoolDir !== b.lmtp.spoolDir ? ['[lmtp] spool_dir'] : []),
};

/** lmtpServe runs the server until a signal stops it; the promise holds the exit status. */
export function lmtpServe(args: LmtpArgs, io: ServeIo = processServeIo()): Promise<number> {
  return serveCommand(LMTP_SPEC, args, io);
}
