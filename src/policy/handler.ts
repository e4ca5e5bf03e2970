/**
 * The policy protocol on one connection (SMTPD_POLICY_README): no greeting; attribute
 * lines are collected until the empty line, then exactly one `action=...` line and an
 * empty line are written, and the connection stays open for smtpd's next request. A
 * request that is no request (too many attributes, a line without `=`) is still answered,
 * with DUNNO, so the connection stays in step with smtpd. Must not: decide (service.ts).
 */
import type { Conn, ConnectionHandler } from '../server/handler.js';
import { RequestCollector } from './request.js';
import type { PolicyService } from './service.js';
import type { TroubleLog } from './trouble-log.js';

/** policyHandler reads the service in force for every request, so a reload applies to the next one. */
export function policyHandler(service: () => PolicyService, trouble: TroubleLog): ConnectionHandler {
  const collector = new RequestCollector();
  return {
    greet: () => undefined,
    async onLine(line: string, conn: Conn) {
      const got = collector.push(line);
      if (got.kind === 'more') return;
      let action = 'action=DUNNO';
      if (got.kind === 'request') action = await service().answer(got.request, conn.signal);
      else trouble.warn('broken request', `DUNNO for a broken request from connection ${conn.id}: ${got.why}`);
      conn.write(`${action}\n\n`);
    },
    // Answers take at most request_timeout; between requests there is nothing to finish.
    inTransaction: () => false,
    onClose: () => undefined,
  };
}
