/**
 * The stand-in protocol `mda lmtp` runs until the LMTP state machine (src/lmtp/) is wired
 * in: a greeting, QUIT, and 502 for everything else, so the server, its limits and its
 * lifecycle can be run and tested on their own. Must not: accept mail.
 */
import type { Conn, ConnectionHandler } from './handler.js';

/** placeholderHandler greets as `hostname` and refuses every command but QUIT. */
export function placeholderHandler(hostname: string): ConnectionHandler {
  return {
    greet: () => `220 ${hostname} LMTP`,
    onLine(line: string, conn: Conn) {
      if (/^quit\s*$/i.test(line)) {
        conn.reply(`221 2.0.0 ${hostname} closing connection`);
        return conn.close();
      }
      conn.reply('502 5.5.1 not implemented yet');
    },
    onClose: () => undefined,
  };
}
