/**
 * The scan stage: runs the configured scanners on the spooled message with no
 * lock held, routes the verdicts (route.ts), and builds the message to commit:
 * the original (or a filter's rewrite) with mda's header fields inserted after
 * Postfix's. Returns that spool and the folder routing chose, or an outcome
 * (discard, defer) that ends the delivery.
 * Must not: hold locks, or keep temporary files on any path.
 */
import { join } from 'node:path';
import type { Config, ScannerConfig } from '../config/schema.js';
import type { Deadline } from '../deadline/deadline.js';
import { unlink } from '../io/fs-async.js';
import type { Logger } from '../log/logger.js';
import { composeSpool, readHead } from '../maildir/rewrite.js';
import type { NameSource } from '../maildir/name-source.js';
import type { Spool } from '../maildir/spool.js';
import { MAX_HEAD_KEPT } from '../message/head-splitter.js';
import { insertPoint } from '../message/insert-point.js';
import { discarded, temp, type Outcome } from '../outcome/outcome.js';
import type { BreakerStore } from '../scanners/breaker-store.js';
import { routeScan } from '../scanners/route.js';
import { runScanners } from '../scanners/run-scanners.js';
import { foldField, scanHeaderLines } from '../scanners/scan-headers.js';
import type { ScannerClient, Verdict } from '../scanners/types.js';
import type { Envelope } from './envelope.js';

export interface ScanStageInput {
  root: string; // the top Maildir (its tmp/ holds every file we make)
  user: string;
  home: string;
  envelope: Envelope;
  /** The stored header block and whether Postfix prepended its fields (From_ line seen). */
  header: Buffer;
  fromPostfix: boolean;
  /** Builds scanner clients (the registry; loaded only when scanners are configured). */
  createScanner: (cfg: ScannerConfig) => ScannerClient;
  /** The circuit breakers this delivery may trust (its uid's, or its server's). */
  breakers: BreakerStore;
  config: Config;
  deadline: Deadline;
  logger: Logger;
  names: NameSource;
}

export interface Scanned {
  spool: Spool;
  /** The folder routing chose (spam, quarantine), or undefined to keep the requested one. */
  folder: string | undefined;
  verdicts: Verdict[];
  why: string;
}

export async function scanStage(spool: Spool, i: ScanStageInput): Promise<Scanned | Outcome> {
  if (i.config.scanners.length === 0) return { spool, folder: undefined, verdicts: [], why: '' };
  const verdicts = await runScanners(
    { path: spool.path, size: spool.bytes, user: i.user, home: i.home, sender: i.envelope.sender, recipient: i.envelope.recipient, workDir: join(i.root, 'tmp'), names: i.names },
    { config: i.config, deadline: i.deadline, logger: i.logger, createScanner: i.createScanner, breakers: i.breakers },
  );
  const rewritten = verdicts.find((v) => v.rewrittenPath)?.rewrittenPath;
  const cleanup = () => Promise.all(verdicts.filter((v) => v.rewrittenPath).map((v) => unlink(v.rewrittenPath!).catch(() => undefined)));
  try {
    const decision = routeScan(verdicts, i.config.scanners, i.config);
    if (decision.action === 'defer') return temp('scanner-unavailable', decision.why);
    if (decision.action === 'discard') return discarded(decision.why);
    const source = rewritten ?? spool.path;
    const head = rewritten ? await readHead(rewritten, MAX_HEAD_KEPT) : i.header;
    const at = insertPoint(head, i.fromPostfix);
    const fields = Buffer.from(scanHeaderLines(verdicts).map((l) => foldField(l, at.eol) + at.eol).join(''), 'utf8');
    const next = await composeSpool(i.root, i.names, source, at.offset, fields);
    await spool.discard();
    return { spool: next, folder: decision.folder, verdicts, why: decision.why };
  } finally {
    await cleanup();
  }
}
