/**
 * A tiny LMTP client for server tests, on line-client.ts: reads whole replies
 * (multi-line `250-...` ones as one), and sends a transaction's commands in one
 * write (PIPELINING) or step by step. Each wait is bounded by line-client.
 */
import { lineClient, type LineClient } from './line-client.js';

export interface LmtpClient {
  raw: LineClient;
  /** The next complete reply: its lines joined by '\n' (CRLF removed). */
  reply(): Promise<string>;
  /** The next n replies. */
  replies(n: number): Promise<string[]>;
  send(text: string | Buffer): void;
}

export async function lmtpClient(to: string | number, waitMs = 20_000): Promise<LmtpClient> {
  const raw = await lineClient(to, waitMs);
  const reply = async (): Promise<string> => {
    const lines: string[] = [];
    for (;;) {
      const l = await raw.line();
      lines.push(l);
      if (!/^\d{3}-/.test(l)) return lines.join('\n');
    }
  };
  return {
    raw,
    reply,
    async replies(n) {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(await reply());
      return out;
    },
    send: (t) => raw.send(t),
  };
}

/** One transaction as the client writes it: MAIL, RCPTs, DATA, the dot-stuffed body (CRLF) and the final dot. */
export function transaction(from: string, to: readonly string[], body: string, mailParams = ''): string {
  const stuffed = body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  const ended = stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`;
  return `MAIL FROM:<${from}>${mailParams ? ` ${mailParams}` : ''}\r\n${to.map((t) => `RCPT TO:<${t}>\r\n`).join('')}DATA\r\n${ended}.\r\n`;
}
