/**
 * Starts the built `mda lmtp` for server tests: writes nothing itself (the
 * caller gives the config file), spawns the CLI (optionally inside a new UTS
 * namespace with its own host name, as a second machine would have), and
 * resolves once the listen address answers. Output is collected for failure
 * messages; stop() signals the child and waits for its exit status.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { MDA } from './run-mda.js';

export interface LmtpServer {
  child: ChildProcess;
  output(): string;
  /** Send sig (default SIGTERM) and wait (bounded) for the exit; resolves with the exit code. */
  stop(sig?: NodeJS.Signals, waitMs?: number): Promise<number | null>;
}

export interface LmtpServerOptions {
  /** `unix:/path` or `127.0.0.1:PORT`. */
  listen: string;
  config: string;
  /** Run in a new UTS namespace under this host name (root only; see canSetHostName). */
  hostName?: string;
  env?: NodeJS.ProcessEnv;
  /** The CLI to run (default: this checkout's bin/mda), e.g. a copy made by realstack's installApp. */
  mda?: string;
  /** More CLI arguments after --config, e.g. ['--metrics', '127.0.0.1:9100']. */
  extraArgs?: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** canSetHostName: whether `unshare --uts` works here (root with CAP_SYS_ADMIN). */
export function canSetHostName(): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync('unshare', ['--uts', 'hostname', 'mda-probe.test'], { stdio: 'ignore' });
  return r.status === 0;
}

function answers(listen: string): Promise<boolean> {
  return new Promise((res) => {
    const s = listen.startsWith('unix:') ? connect({ path: listen.slice(5) }) : connect({ host: '127.0.0.1', port: Number(listen.split(':').at(-1)) });
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

export async function startLmtpServer(o: LmtpServerOptions): Promise<LmtpServer> {
  const mda = [o.mda ?? MDA, 'lmtp', '--listen', o.listen, '--config', o.config, ...(o.extraArgs ?? [])];
  // `hostname NAME` inside the namespace changes only this server's view (os.hostname()).
  const [cmd, args] = o.hostName
    ? ['unshare', ['--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', o.hostName, process.execPath, ...mda]]
    : [process.execPath, mda];
  const child = spawn(cmd as string, args as string[], { env: o.env ?? { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; !(await answers(o.listen)); i++) {
    if (i > 400 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`mda lmtp did not start on ${o.listen}: ${out}`);
    }
    await sleep(50);
  }
  return {
    child,
    output: () => out,
    async stop(sig = 'SIGTERM', waitMs = 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(sig);
      const timer = setTimeout(() => child.kill('SIGKILL'), waitMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
