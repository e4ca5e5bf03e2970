/**
 * The start-up sequence every long-running mda server shares (`mda lmtp`, `mda policy`):
 * --listen addresses, config, logger (its file opened while still root), sockets
 * (chmod/chown), then at most one switch to the section's `user`, and only then
 * connections are served; then the lifecycle (SIGTERM/SIGINT stop, SIGHUP reload with
 * file:line errors keeping the old config). Parameterised by the protocol (handler
 * factory, server lines, line end), the config section, and optional hooks for the
 * command's own options and for what it must open while still root (e.g. `--metrics`,
 * server/metrics-option.ts); whatever those open is closed on every exit path.
 * Returns the exit status; prints only fatal start-up errors. Must not: speak a
 * protocol or exit the process.
 */
import { ConfigError, findConfigPath, loadConfig, loadConfigAsync } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { Deadline } from '../deadline/deadline.js';
import { runningAsRoot } from '../io/trusted-path.js';
import { createLogger, type Logger } from '../log/logger.js';
import { routeProcessWarnings } from '../log/warnings.js';
import { runningAccount, type Account } from '../privileges/accounts.js';
import { switchToAccount } from '../privileges/switch-user.js';
import type { Conn, ConnectionHandler, ServerLimits, ServerReplies } from './handler.js';
import { runLifecycle, type SignalSource } from './lifecycle.js';
import { parseListenAddress, type ListenAddress } from './listen-address.js';
import { ListenError, openListeners, type OpenListener } from './listen.js';
import { LineServer } from './server.js';
import { resolveGid, resolveUid, resolveUser } from './socket-owner.js';

/** sysexits: bad command line, bad config (or a user it names that does not exist), cannot listen or switch user. */
const EX_USAGE = 64;
const EX_UNAVAILABLE = 69;
const EX_SOFTWARE = 70;
const EX_CONFIG = 78;
/** User and socket owner lookups at start-up (getent may ask LDAP). */
const STARTUP_LOOKUP_MS = 30_000;

/** The server settings of one config section ([lmtp], [policy]). */
export interface ServerSection {
  /** Switch to this user once the sockets are open ('' = stay as started). */
  user: string;
  socketMode: number;
  socketOwner: string;
  socketGroup: string;
  limits: ServerLimits;
  shutdownGraceMs: number;
}

/** What a beforeSwitch hook opened while still root. */
export interface OpenedBeforeSwitch<E> {
  /** Handed to protocol() as `opened` (e.g. where the metrics page is plugged in). */
  value: E;
  /** Logged once the server serves, after the "listening on" lines. */
  banner?: string;
  /** Called on every exit path once this was opened: a failed switch or protocol, and after the server stopped. */
  close(): Promise<void>;
}

/** What protocol() is given: the start-up's results, as the uid that serves. */
export interface ServeStart<A extends ServeArgs, E> {
  config: Config;
  logger: Logger;
  account: Account | undefined;
  root: boolean;
  me: Account;
  args: A;
  /** What beforeSwitch opened; undefined when the spec has none or it opened nothing. */
  opened: E | undefined;
  /** The server (not yet serving), read later: its `active` count is the connections open at that moment. */
  server: { readonly active: number };
}

/** What the protocol builds once start-up is done (after the user switch). */
export interface ServeProtocol {
  createHandler(conn: Conn): ConnectionHandler;
  /** A reloaded, validated config; throw to keep the old one. */
  apply(next: Config): void;
  /** After the server has stopped (per-uid workers, caches). */
  close?(): void;
}

export interface ServeSpec<A extends ServeArgs = ServeArgs, E = undefined> {
  /** `policy` → messages start `mda policy:`. */
  command: string;
  /** `[policy]`, for messages. */
  section: string;
  server(c: Config): ServerSection;
  replies: ServerReplies;
  /** What reply() appends: '\r\n' (LMTP) or '\n' (the policy protocol). */
  lineEnd: string;
  /**
   * Builds the protocol as the uid that serves (after the switch), before anyone is served.
   * A throw or rejection (e.g. a spool directory that cannot be made) is a fatal start-up
   * error: exit 69 with its message, sockets closed.
   */
  protocol(start: ServeStart<A, E>): ServeProtocol | Promise<ServeProtocol>;
  /**
   * The command's own options, checked with --listen before the config is read:
   * why one is wrong (a usage error, exit 64, nothing opened), or undefined.
   */
  checkArgs?(args: A): string | undefined;
  /**
   * Opens what must be opened while still root: after the sockets, before the uid switch
   * (e.g. an HTTP listener on a port below 1024). Undefined = nothing to open. A throw or
   * rejection is a fatal start-up error: exit 69 with its message, sockets closed.
   */
  beforeSwitch?(start: { args: A; config: Config; logger: Logger }): Promise<OpenedBeforeSwitch<E> | undefined>;
  /** How the log's "listening on" line describes the rights the server runs with. */
  describeMode?(account: Account | undefined, root: boolean, me: Account): string;
  /** Settings of the protocol's own that a running server cannot take over (logged on reload). */
  restartOnly?(a: Config, b: Config): string[];
}

export interface ServeArgs {
  listen: string[];
  config?: string;
}

export interface ServeIo {
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  signals?: SignalSource;
}

export const processServeIo = (): ServeIo => ({ err: process.stderr, env: process.env });

/** serveCommand runs the server until a signal stops it; the promise holds the exit status. */
export async function serveCommand<A extends ServeArgs, E>(spec: ServeSpec<A, E>, args: A, io: ServeIo = processServeIo()): Promise<number> {
  const fatal = (code: number, msg: string): number => (io.err.write(`mda ${spec.command}: ${msg}\n`), code);
  const addresses: ListenAddress[] = [];
  for (const text of args.listen) {
    const r = parseListenAddress(text);
    if (!r.ok) return fatal(EX_USAGE, `--listen ${r.why}`);
    addresses.push(r.address);
  }
  if (addresses.length === 0) return fatal(EX_USAGE, 'name at least one --listen address');
  const badArg = spec.checkArgs?.(args);
  if (badArg !== undefined) return fatal(EX_USAGE, badArg);

  const configPath = findConfigPath(args.config, io.env);
  let config: Config;
  try {
    config = loadConfig(configPath);
  } catch (err) {
    if (err instanceof ConfigError) return fatal(EX_CONFIG, err.message.replace(/\n/g, `\nmda ${spec.command}: `));
    throw err;
  }

  const section = spec.server(config);
  const root = runningAsRoot();
  const me = runningAccount();
  const user = section.user;
  if (!root && user !== '' && user !== me.name && user !== String(me.uid)) {
    return fatal(EX_CONFIG, `${config.source}: ${spec.section} user = ${JSON.stringify(user)}, but mda runs as ${me.name} and only root can switch users`);
  }
  const lookups = Deadline.start(STARTUP_LOOKUP_MS, { graceMs: 0, onHardStop: () => undefined });
  let account: Account | undefined;
  let socketIds: { uid: number; gid: number };
  try {
    if (root && user !== '') account = await lookups.race(resolveUser(user, lookups.signal));
    socketIds = {
      uid: await lookups.race(resolveUid(section.socketOwner, lookups.signal)),
      gid: await lookups.race(resolveGid(section.socketGroup, lookups.signal)),
    };
  } catch (err) {
    return fatal(EX_CONFIG, `${config.source}: ${spec.section}: ${(err as Error).message}`);
  } finally {
    lookups.dispose();
  }

  // Opened as root, before the switch, like deliver's: a root-owned log file keeps working.
  const logger = createLogger(config.log.target, 'mda', io.env['MDA_SYSLOG_SOCKET'] || undefined, { maxLines: Infinity, stderrNow: true });
  routeProcessWarnings().attach(logger); // nothing on stderr but fatal start-up errors

  let listeners: OpenListener[];
  const opening = Deadline.start(STARTUP_LOOKUP_MS, { graceMs: 0, onHardStop: () => undefined });
  try {
    listeners = await openListeners(addresses, { mode: section.socketMode, ...socketIds }, opening.signal);
  } catch (err) {
    if (err instanceof ListenError) return fatal(EX_UNAVAILABLE, err.message);
    throw err;
  } finally {
    opening.dispose();
  }

  let opened: OpenedBeforeSwitch<E> | undefined;
  // Every fatal exit from here on: what was opened as root is closed before the message.
  const closeAll = async (): Promise<void> => {
    await opened?.close();
    await Promise.all(listeners.map((l) => l.close()));
  };
  try {
    opened = await spec.beforeSwitch?.({ args, config, logger });
  } catch (err) {
    await closeAll();
    return fatal(EX_UNAVAILABLE, (err as Error).message);
  }

  // Once, before any connection is served: a server never changes uid with work in flight.
  if (account) {
    try {
      switchToAccount(account);
    } catch (err) {
      await closeAll();
      return fatal(EX_UNAVAILABLE, `cannot switch to ${spec.section} user ${user}: ${(err as Error).message}`);
    }
  }

  let current = config;
  let protocol: ServeProtocol | undefined;
  // Made before the protocol (it serves nothing until serve() below) so the protocol can read its `active` count.
  const server = new LineServer({
    limits: section.limits,
    replies: spec.replies,
    lineEnd: spec.lineEnd,
    logger,
    createHandler: (conn) => protocol!.createHandler(conn),
  });
  try {
    protocol = await spec.protocol({ config, logger, account, root, me, args, opened: opened?.value, server });
  } catch (err) {
    await closeAll();
    return fatal(EX_UNAVAILABLE, (err as Error).message);
  }
  const serving = protocol;
  const life = runLifecycle({
    server,
    logger,
    graceMs: () => spec.server(current).shutdownGraceMs,
    signals: io.signals,
    reload: async () => {
      const next = await loadConfigAsync(configPath);
      const changes = [...restartOnlyChanges(spec, current, next), ...(spec.restartOnly?.(current, next) ?? [])];
      serving.apply(next);
      for (const change of changes) logger.warn(`SIGHUP: ${change} changes only at restart`);
      current = next;
      server.setLimits(spec.server(next).limits);
    },
  });
  // A bug outside any connection's handler: log it and shut down cleanly rather than die mid-transaction.
  const onBug = (err: unknown) => {
    logger.error(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    life.stop('internal error', EX_SOFTWARE);
  };
  process.on('uncaughtException', onBug);
  process.on('unhandledRejection', onBug);

  const mode = spec.describeMode?.(account, root, me) ?? (account ? `as ${account.name}` : `as ${me.name}`);
  for (const l of listeners) {
    server.serve(l);
    logger.info(`${spec.command}: listening on ${l.bound} ${mode}`);
  }
  if (opened?.banner) logger.info(`${spec.command}: ${opened.banner}`);
  const code = await life.done;
  await opened?.close();
  serving.close?.();
  process.off('uncaughtException', onBug);
  process.off('unhandledRejection', onBug);
  await logger.flush();
  return code;
}

/** The section's settings a running server cannot take over: sockets are open and the user switched once. */
function restartOnlyChanges<A extends ServeArgs, E>(spec: ServeSpec<A, E>, a: Config, b: Config): string[] {
  const out: string[] = [];
  const sa = spec.server(a);
  const sb = spec.server(b);
  if (sa.user !== sb.user) out.push(`${spec.section} user`);
  if (sa.socketMode !== sb.socketMode || sa.socketOwner !== sb.socketOwner || sa.socketGroup !== sb.socketGroup) out.push(`${spec.section} socket_mode/socket_owner/socket_group`);
  if (JSON.stringify(a.log.target) !== JSON.stringify(b.log.target)) out.push('[log] target');
  return out;
}
