/**
 * serveCommand's hooks in process, with a minimal protocol: the command's own options are
 * checked before anything opens (64); what beforeSwitch opened while still root reaches the
 * protocol and is closed on every exit path (a failed beforeSwitch or protocol: 69; SIGTERM: 0);
 * the protocol reads the LineServer's `active` count. And `mda lmtp`'s spool directory failure
 * closes its --metrics listener (in process: the port is free while the test process lives).
 * No uid switch here: the configs name no user.
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lmtpServe } from '../../src/cli/commands/lmtp.js';
import type { SignalSource } from '../../src/server/lifecycle.js';
import { serveCommand, type ServeArgs, type ServeSpec } from '../../src/server/serve-command.js';
import { tempDir } from '../helpers/run-mda.js';

let dir: string;
let cleanup: () => void;
const sockets: Socket[] = [];
beforeEach(() => ({ dir, cleanup } = tempDir('mda-serve-command-')));
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  cleanup();
});

interface Args extends ServeArgs {
  extra?: string;
}

/** A spec whose protocol greets and counts; `events` records the hooks' calls in order. */
function spec(events: string[], over: Partial<ServeSpec<Args, string>> = {}): ServeSpec<Args, string> {
  return {
    command: 'test',
    section: '[lmtp]',
    server: (c) => ({
      user: '',
      socketMode: c.lmtp.socketMode,
      socketOwner: '',
      socketGroup: '',
      limits: { maxConnections: 4, idleTimeoutMs: 10_000, maxLineLength: 1000 },
      shutdownGraceMs: 0,
    }),
    replies: { busy: 'busy' },
    lineEnd: '\n',
    checkArgs: (args) => (args.extra === 'bad' ? '--extra is bad' : undefined),
    beforeSwitch: async () => (events.push('open'), { value: 'the-opened-thing', banner: 'extra on here', close: async () => void events.push('close') }),
    protocol: ({ opened }) => {
      events.push(`protocol ${opened}`);
      return { createHandler: () => ({ greet: () => 'hello', onLine: () => undefined, onClose: () => undefined }), apply: () => undefined, close: () => void events.push('protocol close') };
    },
    ...over,
  };
}

function setup(): { cfg: string; sock: string; log: string; err: { text: string; write(s: string): void } } {
  const cfg = join(dir, 'mda.toml');
  const log = join(dir, 'mda.log');
  writeFileSync(cfg, `[log]\ntarget = "file:${log}"\n`);
  const err = { text: '', write: (s: string) => void (err.text += s) };
  return { cfg, sock: join(dir, 's.sock'), log, err };
}

const signals = (): SignalSource & EventEmitter => new EventEmitter() as SignalSource & EventEmitter;

const canBind = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });

describe('serveCommand hooks', () => {
  it('checkArgs: a bad option of the command is a usage error (64) before anything is opened', async () => {
    const { cfg, sock, err } = setup();
    const events: string[] = [];
    const code = await serveCommand(spec(events), { listen: [`unix:${sock}`], config: cfg, extra: 'bad' }, { err, env: {} });
    expect(code).toBe(64);
    expect(err.text).toBe('mda test: --extra is bad\n');
    expect(events).toEqual([]);
    expect(existsSync(sock)).toBe(false);
  });

  it('beforeSwitch throws: exit 69 with its message, the sockets already open are closed', async () => {
    const { cfg, sock, err } = setup();
    const events: string[] = [];
    const s = spec(events, { beforeSwitch: () => Promise.reject(new Error('--extra x: address in use')) });
    const code = await serveCommand(s, { listen: [`unix:${sock}`], config: cfg }, { err, env: {} });
    expect(code).toBe(69);
    expect(err.text).toBe('mda test: --extra x: address in use\n');
    expect(existsSync(sock)).toBe(false);
    expect(events).toEqual([]);
  });

  it('protocol throws: exit 69 with its message, and what beforeSwitch opened is closed', async () => {
    const { cfg, sock, err } = setup();
    const events: string[] = [];
    const s = spec(events, { protocol: () => Promise.reject(new Error('[lmtp] spool_dir: no')) });
    const code = await serveCommand(s, { listen: [`unix:${sock}`], config: cfg }, { err, env: {} });
    expect(code).toBe(69);
    expect(err.text).toBe('mda test: [lmtp] spool_dir: no\n');
    expect(events).toEqual(['open', 'close']);
    expect(existsSync(sock)).toBe(false);
  });

  it('the protocol gets what beforeSwitch opened and reads the server\'s active count; SIGTERM closes both and exits 0', async () => {
    const { cfg, sock, log, err } = setup();
    const events: string[] = [];
    let server: { readonly active: number } | undefined;
    const base = spec(events);
    const s = spec(events, { protocol: (start) => ((server = start.server), base.protocol(start)) });
    const sig = signals();
    const running = serveCommand(s, { listen: [`unix:${sock}`], config: cfg }, { err, env: {}, signals: sig });
    for (let i = 0; !existsSync(sock) && i < 200; i++) await new Promise((r) => setTimeout(r, 20));
    const c = connect(sock);
    sockets.push(c);
    await new Promise<void>((ok) => c.once('data', () => ok()));
    expect(server?.active).toBe(1);
    sig.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(events).toEqual(['open', 'protocol the-opened-thing', 'close', 'protocol close']);
    expect(err.text).toBe('');
    const logged = readFileSync(log, 'utf8');
    expect(logged).toContain(`test: listening on unix:${sock}`);
    expect(logged).toContain('test: extra on here');
  });
});

describe('mda lmtp on serveCommand', () => {
  it('a spool_dir that cannot be made: exit 69 naming [lmtp] spool_dir, and the --metrics listener is closed', async () => {
    const { sock, err } = setup();
    const cfg = join(dir, 'lmtp.toml');
    const spool = join(dir, 'spool-is-a-file');
    writeFileSync(spool, 'not a directory\n');
    writeFileSync(cfg, `[log]\ntarget = "none"\n[lmtp]\nspool_dir = "${spool}"\n`);
    const held = createServer();
    await new Promise<void>((ok) => held.listen(0, '127.0.0.1', () => ok()));
    const port = (held.address() as { port: number }).port;
    await new Promise<void>((ok) => held.close(() => ok()));
    const code = await lmtpServe({ listen: [`unix:${sock}`], config: cfg, metrics: `127.0.0.1:${port}` }, { err, env: {} });
    expect(code).toBe(69);
    expect(err.text).toContain('mda lmtp: [lmtp] spool_dir:');
    expect(await canBind(port)).toBe(true);
    expect(existsSync(sock)).toBe(false);
  });
});
