/**
 * The LMTP protocol on one connection: drives the pure session state machine
 * (session-state.ts) and performs its actions: recipient lookup and the RCPT
 * quota check (src/recipients/), the DATA transfer and the delivery
 * (transaction.ts), one reply per accepted recipient after the dot.
 * Commands run strictly one at a time (the server waits for each promise), so
 * pipelined commands are answered in order.
 * Must not: deliver, decide an outcome's reply (outcome/to-lmtp.ts does) or
 * hold state shared with other connections (the deps are per server).
 */
import type { Config } from '../config/schema.js';
import { Deadline, monotonicMs } from '../deadline/deadline.js';
import { quote } from '../log/format.js';
import type { Logger } from '../log/logger.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import { rcptQuotaVerdict } from '../recipients/quota-verdict.js';
import { refusalOutcome, resolveAddress, type AccountSource } from '../recipients/resolve.js';
import type { RecipientRules } from '../recipients/rules.js';
import type { Conn, ConnectionHandler } from '../server/handler.js';
import type { LmtpMetrics } from '../server/lmtp-metrics.js';
import { parseCommand } from './commands.js';
import { greeting } from './replies.js';
import { afterData, afterDelivery, afterRcptCheck, inTransaction, initialState, next, type RcptVerdict, type SessionState, type Step } from './session-state.js';
import { Transaction, type AcceptedRecipient, type TransactionDeps } from './transaction.js';

/** Time for one RCPT's account lookup and maildirsize read (NSS may ask LDAP; NFS may stall). */
const RCPT_CHECK_MS = 30_000;

/** What the server hands every connection; read at each use, so a reload applies to the next command. */
export interface LmtpServerDeps {
  hostname: string;
  logger: Logger;
  config(): Config;
  /** The recipient rules compiled from config() (virtualOnly when `[lmtp] user` is set). */
  rules(): RecipientRules;
  accounts(signal: AbortSignal): AccountSource;
  /** The per-transaction dependencies for the current config. */
  transactionDeps(): TransactionDeps;
  /** Counts replies and refusals for `--metrics`; absent in tests that do not look. */
  metrics?: LmtpMetrics;
}

const describeOutcome = (o: Outcome): string =>
  o.kind === 'delivered' ? `delivered to ${o.folder || 'INBOX'}` : o.kind === 'discarded' ? `discarded (${o.why})` : `${o.kind} ${o.cause}: ${o.detail}`;

/** lmtpHandler serves one connection. */
export function lmtpHandler(deps: LmtpServerDeps, conn: Conn): ConnectionHandler {
  let state: SessionState = initialState();
  let accepted: AcceptedRecipient[] = [];
  let tx: Transaction | undefined;
  const log = (msg: string) => deps.logger.info(`lmtp ${conn.id}: ${msg}`);

  const ctx = () => {
    const c = deps.config();
    return { hostname: deps.hostname, maxRecipients: c.lmtp.maxRecipients, maxMessageSize: c.delivery.maxMessageSize, shuttingDown: conn.stopping };
  };

  /** apply writes a step's replies and performs its action, until the machine waits for input. */
  async function apply(step: Step): Promise<void> {
    for (;;) {
      state = step.state;
      if (!inTransaction(state)) accepted = [];
      if (step.replies.length > 0) conn.write(step.replies.join(''));
      const a = step.action;
      switch (a.action) {
        case 'none':
          return;
        case 'close':
          return conn.close();
        case 'check-rcpt':
          step = afterRcptCheck(state, await checkRecipient(a.to, a.size));
          continue;
        case 'start-data':
          if (state.phase !== 'data') throw new Error(`LMTP session: start-data in phase ${state.phase}`);
          tx = new Transaction(deps.transactionDeps(), state.tx.from, a.maxSize, state.tx.recipients.length === 1 ? state.tx.recipients[0] : undefined);
          conn.rawMode();
          return;
        case 'deliver': {
          const started = monotonicMs();
          const outcomes = tx ? await tx.deliver(accepted) : [];
          // The spool goes before the replies: a client holding its 250s finds nothing of it left.
          await tx?.discard();
          deps.metrics?.transactionDone(accepted.map((_, i) => outcomes[i] ?? temp('unexpected', 'no outcome for this recipient')), (monotonicMs() - started) / 1000);
          // msgid= as in deliver's line: Postfix logs message-id= on its cleanup line, so one grep finds both.
          const msgid = tx?.messageId ? ` msgid=${quote(tx.messageId)}` : '';
          accepted.forEach((r, i) => log(`from=<${a.envelope.from}> to=<${r.address}> user=${r.user}${msgid}: ${outcomes[i] ? describeOutcome(outcomes[i]!) : 'no outcome'}`));
          step = afterDelivery(state, outcomes);
          continue;
        }
      }
    }
  }

  async function checkRecipient(to: string, size: number | undefined): Promise<RcptVerdict> {
    const lookup = Deadline.start(RCPT_CHECK_MS, { graceMs: 0, onHardStop: () => undefined });
    const stop = () => lookup.abort({ kind: 'temp', cause: 'system', detail: 'connection closed' });
    conn.signal.addEventListener('abort', stop, { once: true });
    try {
      const r = await resolveAddress(to, deps.rules(), deps.accounts(lookup.signal));
      if (r.kind !== 'user') {
        const outcome = refusalOutcome(r);
        log(`RCPT <${to}> refused: ${r.why}`);
        deps.metrics?.rcptRefused(outcome);
        return { accept: false, outcome };
      }
      // Without SIZE the check still runs: a mailbox already full is full for any message.
      const quota = await rcptQuotaVerdict(r, size ?? 0, deps.config(), lookup.signal);
      if (quota.verdict === 'over') {
        log(`RCPT <${to}> refused: ${quota.detail}`);
        deps.metrics?.rcptRefused(quota.outcome);
        return { accept: false, outcome: quota.outcome };
      }
      const resolved = { user: r.user, switchTo: r.switchTo, uid: r.uid, home: r.home, maildir: r.maildir, ...(r.mbox && { mbox: r.mbox }) };
      accepted.push({ address: to, user: r.user, extension: r.extension, resolved });
      return { accept: true };
    } finally {
      conn.signal.removeEventListener('abort', stop);
      lookup.dispose();
    }
  }

  return {
    greet: () => greeting(deps.hostname).replace(/\r\n$/, ''),
    onLine: (line) => apply(next(state, parseCommand(line), ctx())),
    async onRaw(chunk) {
      if (!tx) throw new Error('DATA bytes without a transaction');
      const t = tx;
      const fed = await t.feed(chunk);
      if (!fed.done) return;
      try {
        const step = afterData(state, { tooLarge: fed.tooLarge });
        if (fed.tooLarge) log(`message over max_message_size: refused for ${accepted.length} recipient(s)`);
        if (fed.tooLarge) deps.metrics?.tooLarge(accepted.length);
        await apply(step);
      } finally {
        tx = undefined;
        await t.discard();
      }
      conn.lineMode(fed.rest);
    },
    inTransaction: () => inTransaction(state),
    onClose() {
      const t = tx;
      tx = undefined;
      if (!t) return;
      // Mid-DATA (or mid-delivery): nothing partial is ever delivered; the spool goes.
      t.abort('connection closed');
      void t.discard();
    },
  };
}
