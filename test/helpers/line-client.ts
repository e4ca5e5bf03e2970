/**
 * A minimal line client for server tests: connects to a unix socket or 127.0.0.1 port,
 * collects what the server sends, and waits for lines or the close, each wait bounded
 * (a hang fails the test with what was received so far).
 */
import { connect, type Socket } from 'node:net';

export interface LineClient {
  socket: Socket;
  send(text: string | Buffer): void;
  /** The next line (CRLF removed). */
  line(): Promise<string>;
  /** Resolves with everything received once the server has closed the connection. */
  closed(): Promise<string>;
  /** Everything received so far. */
  readonly received: string;
  end(): void;
}

export function lineClient(to: string | number, waitMs = 10_000): Promise<LineClient> {
  return new Promise((resolve, reject) => {
    const socket = typeof to === 'string' ? connect({ path: to }) : connect({ host: '127.0.0.1', port: to });
    let received = '';
    let consumed = 0;
    let isClosed = false;
    const waiters: Array<() => void> = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    socket.on('data', (d) => ((received += d.toString('utf8')), wake()));
    socket.on('close', () => ((isClosed = true), wake()));
    socket.on('error', () => undefined); // a reset shows as 'close'
    const waitFor = <T>(what: string, ready: () => T | undefined): Promise<T> =>
      new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no ${what} within ${waitMs}ms; received: ${JSON.stringify(received)}`)), waitMs);
        const check = () => {
          let v: T | undefined;
          try {
            v = ready();
          } catch (err) {
            clearTimeout(timer);
            return rej(err);
          }
          if (v !== undefined) {
            clearTimeout(timer);
            return res(v);
          }
          waiters.push(check);
        };
        check();
      });
    const client: LineClient = {
      socket,
      send: (t) => void socket.write(t),
      line: () =>
        waitFor('line', () => {
          const i = received.indexOf('\n', consumed);
          if (i < 0) {
            if (isClosed) throw new Error(`connection closed; received: ${JSON.stringify(received)}`);
            return undefined;
          }
          const l = received.slice(consumed, i).replace(/\r$/, '');
          consumed = i + 1;
          return l;
        }),
      closed: () => waitFor('close', () => (isClosed ? received : undefined)),
      get received() {
        return received;
      },
      end: () => void socket.end(),
    };
    socket.once('connect', () => resolve(client));
    socket.once('error', reject);
  });
}
