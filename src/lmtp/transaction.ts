/**
 * One LMTP mail transaction from the 354 to the replies: the DATA bytes are
 * decoded (data-decoder.ts) and streamed into ONE spool file in the server's
 * spool directory; then the delivery core (pipeline/deliver-message.ts) stores
 * one copy per recipient and says what happened to each. Fields as Dovecot
 * LMTP adds them, in Postfix local(8)'s order, written into the spool itself
 * ahead of the message (so every copy can be a hard link of it, as Dovecot
 * lmtp-local.c does, and the message's own first line is never taken for a
 * From_ line): `Return-Path:`, and with a single recipient `Delivered-To:`.
 * Time: one Deadline per transaction ([delivery] deadline). Its hard stop ends
 * this transaction only (never the process): the copies already durable keep
 * their outcome (CommitGate), the rest are deferred.
 * Must not: write replies (lmtp-handler.ts does), deliver a partial message
 * (a cut connection fails the reader: spoolStdin never sees an end), or leave
 * its spool file behind.
 */
import type { Config } from '../config/schema.js';
import { Deadline } from '../deadline/deadline.js';
import type { Logger } from '../log/logger.js';
import type { NameSource } from '../maildir/name-source.js';
import type { MaildirMemo } from '../maildir/maildir-memo.js';
import { Spool } from '../maildir/spool.js';
import type { Head } from '../message/head-splitter.js';
import { firstValue, parseHeaders } from '../message/headers.js';
import { classifyError } from '../outcome/classify.js';
import { reject, temp, type Outcome } from '../outcome/outcome.js';
import { deliverMessage, type MessageRecipient, type UidRunner } from '../pipeline/deliver-message.js';
import type { Recipient } from '../pipeline/recipient.js';
import { countDeliveredTo } from '../pipeline/early-checks.js';
import { spoolStdin } from '../pipeline/spool-stdin.js';
import type { BreakerStore } from '../scanners/breaker-store.js';
import { openSession } from '../session/session.js';
import { ByteChannel } from './byte-channel.js';
import { DataDecoder } from './data-decoder.js';

/** What every transaction of one server shares (one instance per server, never module state). */
export interface TransactionDeps {
  config: Config;
  logger: Logger;
  names: NameSource;
  breakers: BreakerStore;
  /** When each Maildir's tmp/ was last looked at for abandoned files. */
  maildirs: MaildirMemo;
  /** Per-uid workers (system-users mode), else undefined. */
  workers: UidRunner | undefined;
  /** The server's spool directory: its tmp/ holds one file per transaction in DATA. */
  spoolDir: string;
  startedAsRoot: boolean;
}

/** An accepted RCPT as the delivery needs it. */
export interface AcceptedRecipient {
  /** The address as the client gave it (without <>). */
  address: string;
  /** The [users] key or account name (resolve.ts). */
  user: string;
  extension: string;
  /** Who and where, as resolved at RCPT: the delivery does not look the account up again. */
  resolved: Recipient;
}

export type FeedResult = { done: false } | { done: true; rest: Buffer; tooLarge: boolean };

const isOutcome = (v: object): v is Outcome => 'kind' in v;

/**
 * How long after its deadline a transaction still waits for its delivery: above
 * uid-workers.ts's 30 s commit grace, so a worker's commit that has started is
 * reported as it ended (a stored copy answered 4xx would be delivered twice).
 */
const HARD_STOP_GRACE_MS = 40_000;

/** The spool holds the whole message; the decoder already enforces max_message_size. */
const NO_SPOOL_LIMIT = Number.MAX_SAFE_INTEGER;

/** deliveredTo: the field Dovecot LMTP prepends for a single recipient (address as given, no brackets, as Postfix local(8) writes it). */
export const deliveredToField = (address: string): Buffer => Buffer.from(`Delivered-To: ${address}\n`);

/** returnPathField: the first line of the spool, shared by every copy (RFC 5321 §4.4). */
export const returnPathField = (sender: string): Buffer => Buffer.from(`Return-Path: <${sender}>\n`);

export class Transaction {
  private readonly deadline: Deadline;
  private readonly channel = new ByteChannel();
  private readonly decoder: DataDecoder;
  private readonly spooling: Promise<Head | Outcome>;
  private spool: Spool | undefined;
  private readonly hardStop: Promise<void>;
  private discarding: Promise<void> | undefined;
  /** The message's Message-ID, known once deliver() has read the header: for the log lines. */
  messageId: string | undefined;

  /** `deliveredTo`: the address of the only accepted recipient (known at DATA), undefined with several. */
  constructor(private readonly deps: TransactionDeps, private readonly sender: string, maxSize: number, private readonly deliveredTo: string | undefined) {
    let stopNow: () => void = () => undefined;
    this.hardStop = new Promise<void>((r) => (stopNow = r));
    // In a server the hard stop must not exit: it ends this transaction's wait, and only that.
    this.deadline = Deadline.start(deps.config.delivery.deadlineMs, {
      graceMs: HARD_STOP_GRACE_MS,
      onHardStop: (reason) => {
        deps.logger.error(`LMTP transaction still busy after its deadline (${reason.kind === 'temp' ? reason.detail : reason.kind}): unfinished recipients are deferred`);
        stopNow();
      },
    });
    this.decoder = new DataDecoder({ maxSize });
    this.spooling = this.spoolAll().finally(() => this.channel.close());
  }

  private async spoolAll(): Promise<Head | Outcome> {
    try {
      this.spool = await this.deadline.race(Spool.create(this.deps.spoolDir, this.deps.names));
      const channel = this.channel;
      const fields = Buffer.concat([returnPathField(this.sender), this.deliveredTo === undefined ? Buffer.alloc(0) : deliveredToField(this.deliveredTo)]);
      // The fields go out with the first chunk: one write (one thread-pool round trip) fewer per transaction.
      async function* input(): AsyncGenerator<Buffer> {
        let first: Buffer | undefined = fields;
        for await (const chunk of channel) {
          yield first ? Buffer.concat([first, chunk]) : chunk;
          first = undefined;
        }
        if (first) yield first;
      }
      return await spoolStdin(input(), this.spool, NO_SPOOL_LIMIT, this.deadline);
    } catch (err) {
      return classifyError(err, 'spooling the message', this.deps.config.quota);
    }
  }

  /** feed takes DATA bytes as read; resolves once they are written (back-pressure). */
  async feed(chunk: Buffer): Promise<FeedResult> {
    const r = this.decoder.push(chunk);
    for (const b of r.out) await this.channel.push(b);
    if (!r.done) return { done: false };
    this.channel.end();
    await this.spooling;
    return { done: true, rest: r.rest, tooLarge: this.decoder.tooLarge };
  }

  /** abort: the connection is gone (or the server gave up on it): stop reading, commit nothing new. */
  abort(why: string): void {
    this.channel.fail(new Error(why));
    this.deadline.abort(temp('system', why));
  }

  /** deliver stores one copy per recipient; one outcome each, in order. Never throws. */
  async deliver(rcpts: readonly AcceptedRecipient[]): Promise<Outcome[]> {
    const head = await this.spooling;
    if (isOutcome(head) || !this.spool) return rcpts.map(() => (isOutcome(head) ? head : temp('unexpected', 'no spool')));
    const fields = parseHeaders(head.header);
    this.messageId = firstValue(fields, 'message-id');
    const outcomes: Outcome[] = new Array(rcpts.length);
    const todo: number[] = [];
    const ours = this.deliveredTo === undefined ? 0 : 1;
    rcpts.forEach((r, i) => {
      // In LMTP nobody but us added a Delivered-To for this hop: one more naming the recipient is a loop.
      if (countDeliveredTo(fields, r.address) > ours) outcomes[i] = reject('loop', `mail forwarding loop for ${r.address}`);
      else todo.push(i);
    });
    if (todo.length === 0) return outcomes;
    const { config, logger, names, breakers, maildirs, workers, startedAsRoot } = this.deps;
    const session = openSession({ config, deadline: this.deadline, logger, names, env: {}, startedAsRoot, breakers, maildirs });
    // No per-copy field (the spool has them all), so the copies can share the spool's inode.
    const message: MessageRecipient[] = todo.map((i) => {
      const r = rcpts[i]!;
      return {
        user: r.user,
        envelope: { sender: this.sender, recipient: r.address, originalRecipient: r.address, extension: r.extension },
        resolved: r.resolved,
      };
    });
    const results = await Promise.race([deliverMessage(session, { spool: this.spool, header: head.header }, message, workers), this.hardStop.then(() => undefined)]);
    todo.forEach((i, k) => {
      outcomes[i] = results?.[k]?.outcome ?? session.gate.storedFor(rcpts[i]!.user) ?? temp('deadline', 'the transaction ran past its deadline');
    });
    return outcomes;
  }

  /** discard removes the spool file and stops the clock; idempotent, never throws. */
  discard(): Promise<void> {
    this.discarding ??= (async () => {
      this.channel.close();
      await this.spooling;
      await this.spool?.discard();
      this.deadline.dispose();
    })();
    return this.discarding;
  }
}
