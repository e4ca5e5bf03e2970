/**
 * `mda policy --listen ADDR ... [--config FILE]`: the Postfix SMTP access policy service
 * (check_policy_service), in the foreground, on the shared server start-up
 * (server/serve-command.ts). Owns the policy protocol's server lines and which rights
 * the recipient lookup assumes. Must not: decide (policy/service.ts) or deliver.
 */
import type { Config } from '../../config/schema.js';
import { runningAccount } from '../../privileges/accounts.js';
import type { ServerReplies } from '../../server/handler.js';
import { processServeIo, serveCommand, type ServeArgs, type ServeIo, type ServeSpec } from '../../server/serve-command.js';
import { policyHandler } from '../../policy/handler.js';
import { PolicyService } from '../../policy/service.js';
import { TroubleLog } from '../../policy/trouble-log.js';

export const describe = 'Run the Postfix SMTP access policy service in the foreground (see mda-policy(8))';

/**
 * The server's own lines. Where it must answer (busy, a handler's error) it answers DUNNO:
 * never refuse good mail on mda's own trouble. An idle, over-long or shutting-down
 * connection is closed without a word: smtpd reconnects for its next request.
 */
export const POLICY_SERVER_REPLIES: ServerReplies = {
  busy: 'action=DUNNO\n',
  error: 'action=DUNNO\n',
};

/** Postfix bounds attribute values by its line_length_limit (2048); room for a long certificate subject. */
const MAX_LINE = 8192;
/** One request takes at most request_timeout; a second more to write the answer. */
const SHUTDOWN_SLACK_MS = 1_000;

/** The user the policy server runs as: `[policy] user`, else `[lmtp] user` (the same view as the LMTP server). */
export const policyUser = (c: Config): string => c.policy.user || c.lmtp.user;

export const POLICY_SPEC: ServeSpec = {
  command: 'policy',
  section: '[policy]',
  server: (c) => ({
    user: policyUser(c),
    socketMode: c.policy.socketMode,
    socketOwner: c.policy.socketOwner,
    socketGroup: c.policy.socketGroup,
    limits: { maxConnections: c.policy.maxConnections, idleTimeoutMs: c.policy.idleTimeoutMs, maxLineLength: MAX_LINE },
    shutdownGraceMs: c.policy.requestTimeoutMs + SHUTDOWN_SLACK_MS,
  }),
  replies: POLICY_SERVER_REPLIES,
  lineEnd: '\n',
  protocol: ({ config, logger }) => {
    const trouble = new TroubleLog(logger);
    // After the switch: the account deliveries run as, for the resolver. Like `mda lmtp`, a
    // server that switches to one user is in virtual mode (only [users] entries, all stored
    // as that user); otherwise system accounts are looked up as well.
    // Fixed at start, as the switch itself: a reload cannot change the mode of a running server.
    const running = runningAccount();
    const virtualOnly = policyUser(config) !== '';
    const build = (c: Config) => new PolicyService({ config: c, virtualOnly, running, trouble });
    let service = build(config);
    return {
      createHandler: () => policyHandler(() => service, trouble),
      apply: (next) => void (service = build(next)),
    };
  },
  describeMode: (account, root, me) =>
    account ? `as ${account.name} (virtual users)` : root ? 'as root (system users and [users] entries)' : `as ${me.name}`,
};

/** policyServe runs the policy service until a signal stops it; the promise holds the exit status. */
export function policyServe(args: ServeArgs, io: ServeIo = processServeIo()): Promise<number> {
  return serveCommand(POLICY_SPEC, args, io);
}
