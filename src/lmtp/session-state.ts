/**
 * The LMTP session as a pure state machine (RFC 2033, RFC 5321 §4.1.4
 * ordering): which reply each command gets, and what the connection code must
 * do next. Pure: no I/O, no clock, no module state; every function returns a
 * new state. Must not: look up recipients, read bytes, or deliver: those are
 * the actions it hands back.
 *
 * The connection code runs commands strictly one at a time (PIPELINING only
 * means they arrive together: replies still go out in order):
 *
 *   let s = initialState();  write(greeting(host));
 *   for each line:  r = next(s, parseCommand(line), ctx)
 *     write(r.replies) in order, then do r.action:
 *       'none'        read the next line
 *       'check-rcpt'  resolve r.to (r.size = the SIZE= declared, for quota),
 *                     then r = afterRcptCheck(r.state, verdict) and write its replies
 *       'start-data'  feed the following bytes to new DataDecoder({ maxSize: r.maxSize });
 *                     when it is done, r = afterData(state, { tooLarge })
 *                     (its rest: the next pipelined commands, kept for later)
 *       'deliver'     deliver r.envelope, then r = afterDelivery(state, outcomes),
 *                     one Outcome per r.envelope.recipients, in order
 *       'close'       end the connection after writing the replies
 *
 * Example, a Postfix-like pipelined transaction (C: client, S: server):
 *   S: 220 mx LMTP ready
 *   C: LHLO pf             next → 250-mx … 250 SIZE n         'none'
 *   C: MAIL FROM:<a@x> SIZE=900 BODY=8BITMIME
 *                          next → 250 2.1.0 Ok                'none'
 *   C: RCPT TO:<b@y>       next → (no reply yet)              'check-rcpt' b@y
 *                          afterRcptCheck(accept) → 250 2.1.5 Ok
 *   C: RCPT TO:<nobody@y>  next → 'check-rcpt'; afterRcptCheck(refuse unknown-user)
 *                          → 550 5.1.1 <nobody@y> user unknown
 *   C: DATA                next → 354 …                       'start-data'
 *   C: … CRLF.CRLF         afterData({tooLarge:false})        'deliver' [b@y]
 *                          afterDelivery([delivered]) → 250 2.0.0 <b@y> Saved
 *   C: QUIT                next → 221 2.0.0 Bye               'close'
 */
import { toLmtpReply } from '../outcome/to-lmtp.js';
import { temp, type Outcome } from '../outcome/outcome.js';
import type { LmtpCommand } from './commands.js';
import { BYE, SHUTTING_DOWN, lhloReply, reply } from './replies.js';

/** What the server is configured with; passed to every next(). */
export interface SessionContext {
  /** This server's name, for the LHLO reply. */
  hostname: string;
  /** Accepted recipients per transaction (RFC 5321 §4.5.3.1.8: at least 100 is recommended). */
  maxRecipients: number;
  /** Stored bytes per message; 0 = no limit. Advertised as SIZE (RFC 1870). */
  maxMessageSize: number;
  /** SIGTERM/SIGINT: no new transaction starts; open ones run to their end. */
  shuttingDown?: boolean;
}

/** One mail transaction as the delivery core needs it. */
export interface Envelope {
  /** The client's LHLO argument. */
  lhlo: string;
  /** Reverse-path without <>; '' for the null sender. */
  from: string;
  /** SIZE= from MAIL, if given (RFC 1870). */
  size?: number;
  body?: '7BIT' | '8BITMIME';
  smtputf8: boolean;
  /** Accepted recipients, in RCPT order: one reply each after DATA. */
  recipients: readonly string[];
}

interface Transaction extends Omit<Envelope, 'lhlo'> {
  /** RCPTs refused so far: DATA's reply differs when all were (RFC 2033 §4.2). */
  refused: number;
}

export type SessionState =
  | { readonly phase: 'new' } // greeting sent, no LHLO yet
  | { readonly phase: 'ready'; readonly lhlo: string } // no transaction open
  | { readonly phase: 'mail'; readonly lhlo: string; readonly tx: Transaction } // MAIL accepted
  | { readonly phase: 'rcpt-check'; readonly lhlo: string; readonly tx: Transaction; readonly to: string }
  | { readonly phase: 'data'; readonly lhlo: string; readonly tx: Transaction } // 354 sent: bytes are message
  | { readonly phase: 'delivering'; readonly lhlo: string; readonly tx: Transaction }
  | { readonly phase: 'closed' };

export type Action =
  | { action: 'none' }
  | { action: 'check-rcpt'; to: string; size?: number }
  | { action: 'start-data'; maxSize: number }
  | { action: 'deliver'; envelope: Envelope }
  | { action: 'close' };

export interface Step {
  state: SessionState;
  /** Complete reply lines (CRLF), to write in this order before doing the action. */
  replies: string[];
  action: Action;
}

/** The recipient lookup's answer: accept, or refuse with the outcome that says why. */
export type RcptVerdict = { accept: true } | { accept: false; outcome: Extract<Outcome, { kind: 'temp' | 'reject' }> };

const NONE: Action = { action: 'none' };
const CLOSE: Action = { action: 'close' };
const OK = reply(250, '2.0.0', 'Ok');
// RFC 5321 §3.5.3; RFC 3463 2.5.0: mda does not say whether a user exists (no user enumeration)
const VRFY = reply(252, '2.5.0', 'Cannot VRFY user, but will accept message and attempt delivery');
// RFC 5321 §4.1.4 and §4.2.4: commands out of order are 503; RFC 3463 5.5.1 invalid command
const NEED_LHLO = reply(503, '5.5.1', 'Send LHLO first');
const NEED_MAIL = reply(503, '5.5.1', 'Need MAIL command');
const NEED_RCPT = reply(503, '5.5.1', 'Need RCPT command');
const NESTED_MAIL = reply(503, '5.5.1', 'Nested MAIL command');
const NO_VALID_RCPT = reply(503, '5.5.1', 'No valid recipients');
const NOT_LMTP = reply(500, '5.5.1', 'This is LMTP: use LHLO');
const TOO_MANY = reply(452, '4.5.3', 'Too many recipients');
const START_DATA = reply(354, '', 'End data with <CR><LF>.<CR><LF>');

const step = (state: SessionState, replies: string[], action: Action = NONE): Step => ({ state, replies, action });

export function initialState(): SessionState {
  return { phase: 'new' };
}

/** A transaction is open (MAIL accepted, not yet answered after DATA or RSET): let it finish on shutdown. */
export function inTransaction(state: SessionState): boolean {
  return state.phase === 'mail' || state.phase === 'rcpt-check' || state.phase === 'data' || state.phase === 'delivering';
}

/** next answers one command. Throws only when called while an action is still pending (a caller bug). */
export function next(state: SessionState, cmd: LmtpCommand, ctx: SessionContext): Step {
  if (state.phase === 'closed') return step(state, [], CLOSE);
  if (state.phase === 'rcpt-check' || state.phase === 'data' || state.phase === 'delivering') {
    throw new Error(`LMTP session: a command arrived in phase ${state.phase}, before its action finished`);
  }
  if (cmd.verb === 'QUIT') return step({ phase: 'closed' }, [BYE], CLOSE);
  // RFC 5321 §3.8: 421 when the service must shut down; an open transaction still finishes
  if (ctx.shuttingDown && state.phase !== 'mail') return step({ phase: 'closed' }, [SHUTTING_DOWN], CLOSE);
  switch (cmd.verb) {
    case 'ERROR':
      return step(state, [cmd.reply]);
    case 'HELO':
    case 'EHLO':
      // RFC 2033 §4.1: LHLO replaces them, so that a client speaking SMTP to an LMTP server is detected
      return step(state, [NOT_LMTP]);
    case 'LHLO':
      // RFC 5321 §4.1.4: a repeated greeting also resets any transaction
      return step({ phase: 'ready', lhlo: cmd.domain }, [lhloReply(ctx.hostname, ctx.maxMessageSize)]);
    case 'NOOP':
      return step(state, [OK]);
    case 'VRFY':
      return step(state, [VRFY]);
    case 'RSET':
      // RFC 5321 §4.1.1.5: abort the transaction, keep the greeting
      return step(state.phase === 'mail' ? { phase: 'ready', lhlo: state.lhlo } : state, [OK]);
    case 'MAIL':
      if (state.phase === 'new') return step(state, [NEED_LHLO]);
      if (state.phase === 'mail') return step(state, [NESTED_MAIL]);
      // RFC 1870 §6.1: a declared size over the fixed maximum is refused at MAIL; RFC 3463 5.3.4
      if (ctx.maxMessageSize > 0 && cmd.size !== undefined && cmd.size > ctx.maxMessageSize) {
        return step(state, [reply(552, '5.3.4', 'Message size exceeds fixed maximum message size')]);
      }
      return step(
        {
          phase: 'mail',
          lhlo: state.lhlo,
          tx: { from: cmd.from, size: cmd.size, body: cmd.body, smtputf8: cmd.smtputf8, recipients: [], refused: 0 },
        },
        [reply(250, '2.1.0', 'Ok')],
      );
    case 'RCPT':
      if (state.phase === 'new') return step(state, [NEED_LHLO]);
      if (state.phase === 'ready') return step(state, [NEED_MAIL]);
      // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client sends the rest in a new transaction
      if (state.tx.recipients.length >= Math.max(1, ctx.maxRecipients)) return step(state, [TOO_MANY]);
      return step({ ...state, phase: 'rcpt-check', to: cmd.to }, [], { action: 'check-rcpt', to: cmd.to, size: state.tx.size });
    case 'DATA':
      if (state.phase === 'new') return step(state, [NEED_LHLO]);
      if (state.phase === 'ready') return step(state, [NEED_MAIL]);
      // RFC 2033 §4.2: with no successful RCPT, DATA MUST fail with 503 (not SMTP's 554)
      if (state.tx.recipients.length === 0) return step(state, [state.tx.refused > 0 ? NO_VALID_RCPT : NEED_RCPT]);
      return step({ ...state, phase: 'data' }, [START_DATA], { action: 'start-data', maxSize: ctx.maxMessageSize });
    default: {
      const never: never = cmd;
      throw new Error(`LMTP session: unknown command ${JSON.stringify(never)}`);
    }
  }
}

function expectPhase<P extends SessionState['phase']>(state: SessionState, phase: P, fn: string): Extract<SessionState, { phase: P }> {
  if (state.phase !== phase) throw new Error(`LMTP session: ${fn} in phase ${state.phase}`);
  return state as Extract<SessionState, { phase: P }>;
}

/** afterRcptCheck answers the RCPT that returned 'check-rcpt', with the lookup's verdict. */
export function afterRcptCheck(state: SessionState, verdict: RcptVerdict): Step {
  const s = expectPhase(state, 'rcpt-check', 'afterRcptCheck');
  const { to, ...rest } = s;
  if (verdict.accept) {
    // RFC 3463 2.1.5: destination address valid
    return step({ ...rest, phase: 'mail', tx: { ...s.tx, recipients: [...s.tx.recipients, to] } }, [reply(250, '2.1.5', 'Ok')]);
  }
  return step({ ...rest, phase: 'mail', tx: { ...s.tx, refused: s.tx.refused + 1 } }, [toLmtpReply(verdict.outcome, to)]);
}

/**
 * afterData: the decoder saw the final dot. Too large: one 552 5.3.4 per
 * recipient (RFC 2033 §4.2 wants one reply each) and the transaction ends;
 * otherwise the connection delivers the envelope.
 */
export function afterData(state: SessionState, data: { tooLarge: boolean }): Step {
  const s = expectPhase(state, 'data', 'afterData');
  if (data.tooLarge) {
    const replies = s.tx.recipients.map((r) => reply(552, '5.3.4', `<${r}> Message size exceeds fixed maximum message size`));
    return step({ phase: 'ready', lhlo: s.lhlo }, replies);
  }
  const { refused: _refused, ...tx } = s.tx;
  return step({ ...s, phase: 'delivering' }, [], { action: 'deliver', envelope: { lhlo: s.lhlo, ...tx } });
}

/**
 * afterDelivery: one reply per accepted recipient, in RCPT order (RFC 2033
 * §4.2). A missing outcome is a 451 deferral, never a missing reply: the
 * client would wait for it forever.
 */
export function afterDelivery(state: SessionState, outcomes: readonly Outcome[]): Step {
  const s = expectPhase(state, 'delivering', 'afterDelivery');
  const replies = s.tx.recipients.map((r, i) => toLmtpReply(outcomes[i] ?? temp('unexpected', 'no outcome for this recipient'), r));
  return step({ phase: 'ready', lhlo: s.lhlo }, replies);
}
