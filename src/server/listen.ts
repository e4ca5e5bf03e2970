/**
 * Opens the server's listening sockets: `unix:/path` (mode, owner and group set before
 * anyone is served) and `HOST:PORT`. A leftover socket file is replaced only when it is a
 * socket nobody answers on; a live socket, a regular file or anything else at the path is
 * refused, never unlinked. Connections that arrive before the server is ready wait,
 * paused, until accept() is called (after privileges are dropped).
 * Must not: read from or write to a connection (server.ts), or change process privileges.
 */
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { formatListenAddress, type ListenAddress } from './listen-address.js';

export interface SocketSettings {
  /** Permission bits for unix sockets. */
  mode: number;
  /** Owner and group for unix sockets; -1 = leave as created. */
  uid: number;
  gid: number;
}

export interface OpenListener {
  readonly address: ListenAddress;
  /** What it is bound to, for logs: the real port when the address said port 0. */
  readonly bound: string;
  /** Starts handing over connections (first those that waited), each paused. */
  accept(onSocket: (socket: Socket) => void): void;
  /** Stops accepting; a unix socket's file is removed (by Node) when it can be. */
  close(): Promise<void>;
}

/** A listen address that cannot be opened; the message says which and why. */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** openListeners opens every address or none: on a failure those already open are closed. */
export async function openListeners(addresses: ListenAddress[], settings: SocketSettings, signal: AbortSignal): Promise<OpenListener[]> {
  const open: OpenListener[] = [];
  try {
    for (const a of addresses) open.push(await openListener(a, settings, signal));
    return open;
  } catch (err) {
    await Promise.all(open.map((l) => l.close()));
    throw err;
  }
}

async function openListener(address: ListenAddress, settings: SocketSettings, signal: AbortSignal): Promise<OpenListener> {
  const name = formatListenAddress(address);
  if (address.kind === 'unix') await clearStaleSocket(address.path, signal);
  const waiting: Socket[] = [];
  let deliver: ((s: Socket) => void) | undefined;
  // pauseOnConnect: no byte is read before the server owns the connection. allowHalfOpen: a client
  // that sends its last commands and shuts down its side still gets every reply.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (s) => (deliver ? deliver(s) : waiting.push(s)));
  await listen(server, address, name);
  if (address.kind === 'unix') {
    try {
      await chmod(address.path, settings.mode);
      if (settings.uid !== -1 || settings.gid !== -1) await chown(address.path, settings.uid, settings.gid);
    } catch (err) {
      await closeServer(server);
      throw new ListenError(`${name}: cannot set the socket's mode or owner: ${(err as Error).message}`);
    }
  }
  const info = server.address();
  const bound = address.kind === 'tcp' && info && typeof info === 'object' ? formatListenAddress({ ...address, port: (info as AddressInfo).port }) : name;
  return {
    address,
    bound,
    accept(onSocket) {
      deliver = onSocket;
      for (const s of waiting.splice(0)) onSocket(s);
    },
    close: () => closeServer(server),
  };
}

function listen(server: Server, address: ListenAddress, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new ListenError(`${name}: cannot listen: ${err.message}`)));
    if (address.kind === 'tcp') return void server.listen({ host: address.host || undefined, port: address.port }, resolve);
    // bind(2) creates the file with the umask's mode; 0600 until chmod below, so nobody else
    // can connect in between whatever the inherited umask. bind happens inside listen(), synchronously.
    const old = process.umask(0o177);
    try {
      server.listen({ path: address.path }, resolve);
    } finally {
      process.umask(old);
    }
  });
}

/**
 * closeServer stops accepting now. Not server.close()'s callback: that waits for every open
 * connection, and shutdown must stop accepting while transactions still finish. libuv
 * closes the handle (and unlinks a unix socket's file) within close() itself.
 */
function closeServer(server: Server): Promise<void> {
  server.close(() => undefined); // the callback only takes ERR_SERVER_NOT_RUNNING off the table
  return Promise.resolve();
}

/**
 * clearStaleSocket leaves `path` free for bind(2), or throws why it will not: only a socket
 * that refuses connections (its server is gone) is removed. A regular file might be anyone's
 * data (a typo in --listen), and a live socket is another server, maybe another mda.
 */
async function clearStaleSocket(path: string, signal: AbortSignal): Promise<void> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new ListenError(`unix:${path}: cannot check the socket path: ${err.message}`);
  });
  if (!st) return;
  if (!st.isSocket()) {
    const what = st.isFile() ? 'a regular file' : st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : 'not a socket';
    throw new ListenError(`unix:${path}: refusing to replace ${what}; remove it or choose another path`);
  }
  const answer = await probe(path, signal);
  if (answer === 'live') throw new ListenError(`unix:${path}: another server is listening on this socket (is mda lmtp already running?)`);
  if (answer !== 'stale') throw new ListenError(`unix:${path}: cannot tell whether the socket is in use (${answer}); not replacing it`);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw new ListenError(`unix:${path}: cannot remove the stale socket: ${err.message}`);
  });
}

/** probe connects once: 'live', 'stale' (refused: nobody listens), or the error code. */
function probe(path: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const s = new Socket({ signal });
    s.once('connect', () => {
      s.destroy();
      resolve('live');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'stale' : (err.code ?? err.message)));
    s.connect({ path });
  });
}
