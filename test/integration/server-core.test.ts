/**
 * The generic line server in-process on a unix socket in a temp dir and on 127.0.0.1 port 0:
 * greeting, connection limit, idle timeout, isolation of slow and stalled clients, line
 * length cap, handler errors, raw mode with pipelined commands, graceful shutdown, and the
 * rules for an existing file at the socket path.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LMTP_SERVER_REPLIES } from '../../src/cli/commands/lmtp.js';
import type { Logger } from '../../src/log/logger.js';
import type { Conn, ConnectionHandler, ServerLimits } from '../../src/server/handler.js';
import { runLifecycle, type SignalSource } from '../../src/server/lifecycle.js';
import { openListeners, type OpenListener } from '../../src/server/listen.js';
import { LineServer } from '../../src/server/server.js';
import { lineClient, type LineClient } from '../helpers/line-client.js';
import { tempDir } from '../helpers/run-mda.js';

const SETTINGS = { mode: 0o660, uid: -1, gid: -1 };
const never = new AbortController().signal;

function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info: ${m}`), warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`), flush: async () => undefined, dropped: 0 };
}

/** A gate a test opens when it wants a blocked handler call to finish. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/**
 * The test protocol: SLOW blocks until the gate opens, BOOM throws, DATA reads raw bytes up
 * to CRLF.CRLF, MAIL opens a transaction and END closes it, QUIT, anything else echoes.
 */
function testHandler(slow: { wait: Promise<void> }, seen: { aborted: boolean[] }): (conn: Conn) => ConnectionHandler {
  return (conn) => {
    let inTx = false;
    let data = Buffer.alloc(0);
    return {
      greet: () => '220 test ready',
      async onLine(line, c) {
        const cmd = line.toUpperCase();
        if (cmd === 'SLOW') {
          await slow.wait;
          seen.aborted.push(conn.signal.aborted);
          return c.reply('250 slow done');
        }
        if (cmd === 'BOOM') throw new Error('handler bug');
        if (cmd === 'DATA') {
          c.reply('354 go ahead');
          data = Buffer.alloc(0);
          return c.rawMode();
        }
        if (cmd === 'MAIL') return (inTx = true), c.reply('250 mail ok');
        if (cmd === 'END') return (inTx = false), c.reply('250 end ok');
        if (cmd === 'QUIT') return c.reply('221 bye'), c.close();
        c.reply(`250 ${line}`);
      },
      onRaw(chunk, c) {
        data = Buffer.concat([data, chunk]);
        const end = data.indexOf('\r\n.\r\n');
        if (end < 0) return;
        c.reply(`250 got ${end + 2} bytes`);
        c.lineMode(data.subarray(end + 5));
      },
      inTransaction: () => inTx,
      onClose: () => undefined,
    };
  };
}

interface Running {
  server: LineServer;
  logger: ReturnType<typeof memoryLogger>;
  socketPath: string;
  port: number;
  slow: ReturnType<typeof gate>;
  seen: { aborted: boolean[] };
}

let dir: string;
let cleanup: () => void;
const clients: LineClient[] = [];
const servers: LineServer[] = [];

beforeEach(() => ({ dir, cleanup } = tempDir('mda-server-')));
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  for (const s of servers.splice(0)) {
    await s.stopAccepting();
    s.destroyAll();
  }
  cleanup();
});

async function start(limits: Partial<ServerLimits> = {}): Promise<Running> {
  const socketPath = join(dir, 'lmtp.sock');
  const listeners: OpenListener[] = await openListeners(
    [{ kind: 'unix', path: socketPath }, { kind: 'tcp', host: '127.0.0.1', port: 0 }],
    SETTINGS,
    never,
  );
  const logger = memoryLogger();
  const slow = gate();
  const seen = { aborted: [] as boolean[] };
  const server = new LineServer({
    limits: { maxConnections: 10, idleTimeoutMs: 60_000, maxLineLength: 512, ...limits },
    replies: LMTP_SERVER_REPLIES,
    logger,
    createHandler: testHandler(slow, seen),
  });
  for (const l of listeners) server.serve(l);
  servers.push(server);
  return { server, logger, socketPath, port: Number(listeners[1]!.bound.split(':').pop()), slow, seen };
}

async function client(to: string | number): Promise<LineClient> {
  const c = await lineClient(to);
  clients.push(c);
  return c;
}

describe('line server', () => {
  it('greets on a unix socket and on 127.0.0.1, and answers line by line (RFC 2033 §4.2 greeting first)', async () => {
    const r = await start();
    for (const to of [r.socketPath, r.port]) {
      const c = await client(to);
      expect(await c.line()).toBe('220 test ready');
      c.send('NOOP\r\nQUIT\r\n');
      expect(await c.line()).toBe('250 NOOP');
      expect(await c.line()).toBe('221 bye');
      await c.closed();
    }
  });

  it('the connection over max_connections gets the 421 line and is closed; the others go on', async () => {
    const r = await start({ maxConnections: 2 });
    const a = await client(r.socketPath);
    const b = await client(r.port);
    expect(await a.line()).toBe('220 test ready');
    expect(await b.line()).toBe('220 test ready');
    const c = await client(r.port);
    expect(await c.closed()).toBe('421 4.3.2 Too many connections, try again later\r\n');
    a.send('NOOP\r\n');
    expect(await a.line()).toBe('250 NOOP');
    expect(r.logger.lines.filter((l) => l.includes('max_connections (2) reached'))).toHaveLength(1);
  });

  it('RFC 5321 §4.5.3.2.7: a silent client gets the idle line and is closed', async () => {
    const r = await start({ idleTimeoutMs: 300 });
    const c = await client(r.socketPath);
    expect(await c.closed()).toBe('220 test ready\r\n421 4.4.2 Idle timeout, closing connection\r\n');
  });

  it('a client whose handler is busy does not delay another client', async () => {
    const r = await start();
    const a = await client(r.socketPath);
    expect(await a.line()).toBe('220 test ready');
    a.send('SLOW\r\n');
    const b = await client(r.socketPath);
    expect(await b.line()).toBe('220 test ready');
    b.send('NOOP\r\nQUIT\r\n');
    expect(await b.line()).toBe('250 NOOP');
    expect(await b.line()).toBe('221 bye');
    expect(a.received).toBe('220 test ready\r\n'); // still waiting: b was served meanwhile
    r.slow.open();
    expect(await a.line()).toBe('250 slow done');
  });

  it('a stalled client that sends a flood and never reads the replies does not delay another client', async () => {
    const r = await start();
    const a = await client(r.port);
    a.socket.pause(); // reads nothing: our replies pile up until the server stops reading from it
    a.send(Buffer.from('NOOP\r\n'.repeat(300_000)));
    const b = await client(r.port);
    expect(await b.line()).toBe('220 test ready');
    b.send('NOOP\r\n');
    expect(await b.line()).toBe('250 NOOP');
    expect(r.server.active).toBe(2);
  });

  it('a half-sent line does not delay another client', async () => {
    const r = await start();
    const a = await client(r.socketPath);
    a.send('NOO');
    const b = await client(r.socketPath);
    expect(await b.line()).toBe('220 test ready');
    b.send('NOOP\r\n');
    expect(await b.line()).toBe('250 NOOP');
    a.send('P\r\n');
    expect(await a.line()).toBe('220 test ready');
    expect(await a.line()).toBe('250 NOOP');
  });

  it('RFC 5321 §4.5.3.1.4: a line over max_line_length gets 500 5.5.2, the connection and the server go on', async () => {
    const r = await start({ maxLineLength: 512 });
    const c = await client(r.socketPath);
    expect(await c.line()).toBe('220 test ready');
    c.send(`${'x'.repeat(511)}\r\nNOOP\r\n`);
    expect(await c.line()).toBe('500 5.5.2 Line too long');
    expect(await c.line()).toBe('250 NOOP');
    c.send('y'.repeat(4 * 1024 * 1024)); // no line end: dropped as it comes, never buffered whole
    c.send('\r\nNOOP\r\n');
    expect(await c.line()).toBe('500 5.5.2 Line too long');
    expect(await c.line()).toBe('250 NOOP');
    const other = await client(r.port);
    expect(await other.line()).toBe('220 test ready');
  });

  it('a handler that throws ends its connection with 421 4.3.0; the server keeps serving', async () => {
    const r = await start();
    const c = await client(r.socketPath);
    c.send('BOOM\r\nNOOP\r\n');
    expect(await c.closed()).toBe('220 test ready\r\n421 4.3.0 Internal error, closing connection\r\n');
    expect(r.logger.lines.some((l) => l.startsWith('error: ') && l.includes('handler bug'))).toBe(true);
    const d = await client(r.socketPath);
    expect(await d.line()).toBe('220 test ready');
    d.send('NOOP\r\n');
    expect(await d.line()).toBe('250 NOOP');
  });

  it('RFC 2033 §4.2 PIPELINING: raw mode takes the DATA bytes of the same chunk, then the commands after the dot are lines again', async () => {
    const r = await start();
    const c = await client(r.socketPath);
    expect(await c.line()).toBe('220 test ready');
    const body = `Subject: t\r\n\r\n${'z'.repeat(600)}\r\n`; // longer than max_line_length: raw bytes are not lines
    c.send(`DATA\r\n${body}.\r\nNOOP\r\nDATA\r\nab`);
    c.send('c\r\n.\r\nQUIT\r\n');
    expect(await c.line()).toBe('354 go ahead');
    expect(await c.line()).toBe(`250 got ${Buffer.byteLength(body)} bytes`);
    expect(await c.line()).toBe('250 NOOP');
    expect(await c.line()).toBe('354 go ahead');
    expect(await c.line()).toBe('250 got 5 bytes');
    expect(await c.line()).toBe('221 bye');
  });

  it('a client that sends its commands and shuts down its side still gets every reply', async () => {
    const r = await start();
    const c = await client(r.port);
    c.send('NOOP\r\nSLOW\r\n');
    c.end();
    r.slow.open();
    expect(await c.closed()).toBe('220 test ready\r\n250 NOOP\r\n250 slow done\r\n');
  });
});

describe('shutdown (SIGTERM/SIGINT through the lifecycle)', () => {
  const signals = (): SignalSource & EventEmitter => new EventEmitter() as SignalSource & EventEmitter;

  it('stops accepting, lets the in-flight slow transaction finish within the grace, says 421 to idle clients, resolves 0', async () => {
    const r = await start();
    const sig = signals();
    const life = runLifecycle({ server: r.server, logger: r.logger, graceMs: () => 20_000, reload: async () => undefined, signals: sig });
    const busy = await client(r.socketPath);
    expect(await busy.line()).toBe('220 test ready');
    busy.send('MAIL\r\n');
    expect(await busy.line()).toBe('250 mail ok');
    busy.send('SLOW\r\n');
    const idle = await client(r.port);
    expect(await idle.line()).toBe('220 test ready');

    sig.emit('SIGTERM');
    expect(await idle.closed()).toBe('220 test ready\r\n421 4.3.2 Server shutting down, try again later\r\n');
    await expect(lineClient(r.socketPath, 2_000)).rejects.toThrow(); // not accepting any more
    expect(existsSync(r.socketPath)).toBe(false);

    r.slow.open();
    expect(await busy.line()).toBe('250 slow done');
    busy.send('END\r\n'); // the transaction ends: now it is told goodbye
    expect(await busy.line()).toBe('250 end ok');
    expect(await busy.closed()).toMatch(/250 end ok\r\n421 4\.3\.2 Server shutting down, try again later\r\n$/);
    expect(await life.done).toBe(0);
    expect(r.seen.aborted).toEqual([false]); // finished in time: its work was never cut off
  });

  it('after the grace the rest get the 421 shutdown line, their signal aborts, and it resolves 0', async () => {
    const r = await start();
    const sig = signals();
    const life = runLifecycle({ server: r.server, logger: r.logger, graceMs: () => 200, reload: async () => undefined, signals: sig });
    const busy = await client(r.port);
    busy.send('MAIL\r\nSLOW\r\n');
    expect(await busy.line()).toBe('220 test ready');
    expect(await busy.line()).toBe('250 mail ok');
    sig.emit('SIGINT');
    expect(await busy.closed()).toBe('220 test ready\r\n250 mail ok\r\n421 4.3.2 Server shutting down, try again later\r\n');
    expect(await life.done).toBe(0);
    r.slow.open();
    await new Promise((res) => setImmediate(res));
    expect(r.seen.aborted).toEqual([true]);
    expect(r.logger.lines.some((l) => l.includes('shutdown grace over: closing 1 connection(s)'))).toBe(true);
  });

  it('SIGHUP: a reload that throws keeps serving and logs the error lines joined', async () => {
    const r = await start();
    const sig = signals();
    runLifecycle({ server: r.server, logger: r.logger, graceMs: () => 0, reload: async () => Promise.reject(new Error('/etc/mda/mda.toml:3: lmtp.x: bad\n/etc/mda/mda.toml:4: lmtp.y: bad')), signals: sig });
    sig.emit('SIGHUP');
    const c = await client(r.socketPath);
    expect(await c.line()).toBe('220 test ready');
    expect(r.logger.lines).toContain('error: SIGHUP: keeping the old configuration: /etc/mda/mda.toml:3: lmtp.x: bad; /etc/mda/mda.toml:4: lmtp.y: bad');
  });
});

describe('unix socket path', () => {
  it('a stale socket (its server was killed) is replaced', async () => {
    const path = join(dir, 'stale.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    expect(statSync(path).isSocket()).toBe(true); // left behind
    const [l] = await openListeners([{ kind: 'unix', path }], SETTINGS, never);
    const s = new LineServer({ limits: { maxConnections: 1, idleTimeoutMs: 60_000, maxLineLength: 512 }, replies: {}, logger: memoryLogger(), createHandler: testHandler(gate(), { aborted: [] }) });
    s.serve(l!);
    servers.push(s);
    const c = await client(path);
    expect(await c.line()).toBe('220 test ready');
  });

  it('a regular file at the socket path is refused and left as it was', async () => {
    const path = join(dir, 'mail.txt');
    writeFileSync(path, 'precious');
    await expect(openListeners([{ kind: 'unix', path }], SETTINGS, never)).rejects.toThrow(`unix:${path}: refusing to replace a regular file`);
    expect(readFileSync(path, 'utf8')).toBe('precious');
  });

  it('a live socket (another server) is refused and keeps working', async () => {
    const r = await start();
    await expect(openListeners([{ kind: 'unix', path: r.socketPath }], SETTINGS, never)).rejects.toThrow('another server is listening');
    const c = await client(r.socketPath);
    expect(await c.line()).toBe('220 test ready');
  });

  it('when one address fails, those already opened are closed again', async () => {
    const good = join(dir, 'good.sock');
    const bad = join(dir, 'file');
    writeFileSync(bad, '');
    await expect(openListeners([{ kind: 'unix', path: good }, { kind: 'unix', path: bad }], SETTINGS, never)).rejects.toThrow('refusing');
    expect(existsSync(good)).toBe(false);
  });

  it('socket_mode is applied to the socket file', async () => {
    const path = join(dir, 'mode.sock');
    const listeners = await openListeners([{ kind: 'unix', path }], { mode: 0o600, uid: -1, gid: -1 }, never);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await Promise.all(listeners.map((l) => l.close()));
  });
});
