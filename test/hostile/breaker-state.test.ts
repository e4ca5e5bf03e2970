/**
 * Issue 10, finding 5: a local user must not be able to change how another
 * user's mail is scanned or deferred through the circuit-breaker state. As
 * root, with two system users (A = daemon, the attacker; B = bin, the victim),
 * A plants every breaker record and directory it can in the shared state_dir
 * (the legacy shared files, B's per-uid directory made by A, a symlink, a
 * FIFO...), and B's delivery, run as B the way Postfix runs mda, must still
 * scan with a healthy scanner (never `skipped (circuit-open)`, never a
 * deferral). B's own breaker still works (files 0600 in a 0700 dir of B), and
 * B's open breaker does not leak into A's deliveries.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { breakerFileName, encodeBreaker } from '../../src/scanners/breaker.js';
import { closeAllFakeScanners, refusedPort, startFakeScanner, type FakeScanner } from '../helpers/fake-scanner.js';
import { listDir, MDA, tempDir } from '../helpers/run-mda.js';

const isRoot = process.getuid?.() === 0;
const uidOf = (name: string): number | undefined => {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
};
const A = uidOf('daemon'); // the attacker
const B = uidOf('bin'); // the victim
const runnable = isRoot && A !== undefined && B !== undefined && A !== 0 && B !== 0 && A !== B;
if (!runnable) console.warn('\n*** test/hostile/breaker-state.test.ts SKIPPED: it must run as root with users daemon and bin ***\n');

const MSG = 'From a@b.example  Sat Nov 21 23:21:04 2026\nReturn-Path: <a@b.example>\nSubject: breaker\n\nbody\n';
const KEY = (endpoint: string) => `spamd ${endpoint}`; // run-scanners.ts breakerKey(name, endpoint)
const OPEN = () => encodeBreaker({ failures: 5, openUntilMs: Date.now() + 30 * 60_000, lastLogMs: Date.now() });

let t: ReturnType<typeof tempDir>;
let fake: FakeScanner;
let state: string;

beforeAll(async () => {
  if (runnable) fake = await startFakeScanner({ dialect: 'spamd', mode: 'ok-clean' });
});
afterAll(() => closeAllFakeScanners());
beforeEach(() => {
  t = tempDir('mda-hostile-breaker-');
  chmodSync(t.dir, 0o755);
  const varTmp = join(t.dir, 'var-tmp'); // like /var/tmp: root's, sticky, world-writable
  mkdirSync(varTmp);
  chmodSync(varTmp, 0o1777);
  state = join(varTmp, 'mda');
});
afterEach(() => t.cleanup());

function config(hosts: string[], onFailure: 'deliver' | 'defer', extra = ''): string {
  const path = join(t.dir, `mda-${onFailure}.toml`);
  writeFileSync(
    path,
    `[log]\ntarget = "none"\n[scanning]\nstate_dir = "${state}"\nbreaker_failures = 1\nbreaker_cooldown = "10m"\n${extra}\n` +
      `[[scanner]]\ntype = "spamd"\nmode = "check"\nhosts = ${JSON.stringify(hosts)}\ntimeout = "1s"\non_failure = "${onFailure}"\n`,
    { mode: 0o644 },
  );
  return path;
}

/** The shared state dir as an admin would make it (install -d -m 1777 -o root). */
function sharedDir(owner = 0): void {
  mkdirSync(state);
  chmodSync(state, 0o1777);
  chownSync(state, owner, owner);
}

/** Runs `fn` (the body of an async function with fs, path) as uid, the way a local user would. */
function as(uid: number, body: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import fs from 'node:fs'; import path from 'node:path';\n${body}`], {
    uid, gid: uid, encoding: 'utf8', timeout: 10_000, cwd: '/',
  });
  return { status: r.status, stderr: r.stderr };
}

/** Delivers MSG as `uid` (Postfix runs mailbox_command as the recipient) into that user's Maildir. */
function deliverAs(uid: number, cfg: string): Promise<{ code: number | null; output: string; stored: string[] }> {
  const home = join(t.dir, `home-${uid}`);
  if (!existsSync(home)) {
    mkdirSync(home, { mode: 0o700 });
    chownSync(home, uid, uid);
  }
  const md = join(home, 'Maildir');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MDA, 'deliver', '--config', cfg, '--maildir', md], {
      uid, gid: uid, cwd: '/', env: { PATH: '/usr/bin:/bin', HOME: home }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const hard = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`mda hung: ${output}`))), 20_000);
    child.on('close', (code) => {
      clearTimeout(hard);
      const dir = join(md, 'new');
      resolve({ code, output, stored: listDir(dir).map((f) => readFileSync(join(dir, f), 'utf8')) });
    });
    child.stdin.end(MSG);
  });
}

const scanLine = (msg: string): string => /^X-MDA-Scan: .*$/m.exec(msg)?.[0] ?? '(no X-MDA-Scan)';
const perUid = (uid: number) => join(state, `breakers-${uid}`);

describe.skipIf(!runnable)('breaker state: one local user cannot switch off or defer scanning of another user', () => {
  // Each row: what A (or a broken system) leaves in the state dir before B's delivery.
  const tamper: Array<[string, (file: string) => void]> = [
    ['A writes the legacy shared breaker file (0666 in state_dir)', (file) => {
      sharedDir();
      const r = as(A!, `fs.writeFileSync(${JSON.stringify(join(state, file))}, ${JSON.stringify(OPEN())}, { mode: 0o666 }); fs.chmodSync(${JSON.stringify(join(state, file))}, 0o666);`);
      expect(r.status, r.stderr).toBe(0);
    }],
    ["A pre-creates B's per-uid dir (A's, 0777) with an open breaker in it", (file) => {
      sharedDir();
      const d = perUid(B!);
      const r = as(A!, `fs.mkdirSync(${JSON.stringify(d)}); fs.chmodSync(${JSON.stringify(d)}, 0o777); fs.writeFileSync(${JSON.stringify(join(d, file))}, ${JSON.stringify(OPEN())}, { mode: 0o666 });`);
      expect(r.status, r.stderr).toBe(0);
    }],
    ["A plants B's per-uid dir as a symlink to A's dir holding an open breaker", (file) => {
      sharedDir();
      const d = join(state, 'a-dir');
      const r = as(A!, `fs.mkdirSync(${JSON.stringify(d)}, { mode: 0o755 }); fs.writeFileSync(${JSON.stringify(join(d, file))}, ${JSON.stringify(OPEN())}); fs.symlinkSync(${JSON.stringify(d)}, ${JSON.stringify(perUid(B!))});`);
      expect(r.status, r.stderr).toBe(0);
    }],
    ["A cannot write into B's own per-uid dir (it is 0700 and B's)", (file) => {
      sharedDir();
      const d = perUid(B!);
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, B!, B!);
      const r = as(A!, `fs.writeFileSync(${JSON.stringify(join(d, file))}, ${JSON.stringify(OPEN())});`);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/EACCES/);
      expect(existsSync(join(d, file))).toBe(false);
    }],
    ["an open breaker owned by A inside B's dir (tampered) is ignored", (file) => {
      sharedDir();
      const d = perUid(B!);
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, B!, B!);
      writeFileSync(join(d, file), OPEN(), { mode: 0o600 });
      chownSync(join(d, file), A!, A!);
    }],
    ["B's file made other-writable (0666) is ignored", (file) => {
      sharedDir();
      const d = perUid(B!);
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, B!, B!);
      writeFileSync(join(d, file), OPEN());
      chmodSync(join(d, file), 0o666);
      chownSync(join(d, file), B!, B!);
    }],
    ["B's per-uid dir made other-writable (0777) is ignored", (file) => {
      sharedDir();
      const d = perUid(B!);
      mkdirSync(d);
      chmodSync(d, 0o777);
      chownSync(d, B!, B!);
      writeFileSync(join(d, file), OPEN(), { mode: 0o600 });
      chownSync(join(d, file), B!, B!);
    }],
    ["a symlink in B's dir to an open record of A's is not followed", (file) => {
      sharedDir();
      const d = perUid(B!);
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, B!, B!);
      const target = join(t.dir, 'a-record');
      writeFileSync(target, OPEN(), { mode: 0o644 });
      chownSync(target, A!, A!);
      symlinkSync(target, join(d, file));
      lchownSync(join(d, file), B!, B!);
    }],
    ["a FIFO in B's dir neither hangs nor opens the breaker", (file) => {
      sharedDir();
      const d = perUid(B!);
      mkdirSync(d, { mode: 0o700 });
      chownSync(d, B!, B!);
      execFileSync('mkfifo', [join(d, file)]);
      chownSync(join(d, file), B!, B!);
    }],
    ['A owns the shared state dir (it made it first) and plants everything it can', (file) => {
      const r = as(A!, [
        `fs.mkdirSync(${JSON.stringify(state)}); fs.chmodSync(${JSON.stringify(state)}, 0o1777);`,
        `fs.writeFileSync(${JSON.stringify(join(state, file))}, ${JSON.stringify(OPEN())}, { mode: 0o666 });`,
        `fs.mkdirSync(${JSON.stringify(perUid(B!))}, { mode: 0o777 }); fs.chmodSync(${JSON.stringify(perUid(B!))}, 0o777);`,
        `fs.writeFileSync(${JSON.stringify(join(perUid(B!), file))}, ${JSON.stringify(OPEN())}, { mode: 0o666 });`,
      ].join('\n'));
      expect(r.status, r.stderr).toBe(0);
    }],
  ];

  it.each(tamper)('%s: B still scans (on_failure = "deliver")', async (_name, plant) => {
    plant(breakerFileName(KEY(fake.endpoint)));
    const r = await deliverAs(B!, config([fake.endpoint], 'deliver'));
    expect(r.code, r.output).toBe(0);
    expect(r.output).toBe('');
    expect(r.stored).toHaveLength(1);
    expect(scanLine(r.stored[0]!)).toBe('X-MDA-Scan: spamd=clean');
  });

  it.each(tamper)('%s: B is not deferred (on_failure = "defer")', async (_name, plant) => {
    plant(breakerFileName(KEY(fake.endpoint)));
    const r = await deliverAs(B!, config([fake.endpoint], 'defer'));
    expect(r.code, r.output).toBe(0);
    expect(r.stored).toHaveLength(1);
    expect(scanLine(r.stored[0]!)).toBe('X-MDA-Scan: spamd=clean');
  });

  it("B's deliveries neither use nor create breaker state in a shared dir that A owns", async () => {
    const r0 = as(A!, `fs.mkdirSync(${JSON.stringify(state)}); fs.chmodSync(${JSON.stringify(state)}, 0o1777);`);
    expect(r0.status, r0.stderr).toBe(0);
    const dead = `127.0.0.1:${await refusedPort()}`;
    const cfg = config([dead], 'deliver');
    for (let i = 0; i < 2; i++) {
      const r = await deliverAs(B!, cfg);
      expect(r.code, r.output).toBe(0);
    }
    // No breaker of B's in A's directory, so both deliveries tried the scanner (A could rename B's state there).
    expect(existsSync(perUid(B!))).toBe(false);
    const lines = (await deliverAs(B!, cfg)).stored.map(scanLine);
    expect(lines).toEqual(Array(3).fill('X-MDA-Scan: spamd=skipped (refused)'));
  });
});

describe.skipIf(!runnable)("breaker state: B's breaker is B's own", () => {
  it("a dead scanner opens B's breaker for B only: 0700 dir and 0600 file of B; A still tries the scanner", async () => {
    sharedDir();
    const dead = `127.0.0.1:${await refusedPort()}`;
    const cfg = config([dead], 'deliver');
    const first = await deliverAs(B!, cfg);
    expect(first.code, first.output).toBe(0);
    expect(scanLine(first.stored[0]!)).toBe('X-MDA-Scan: spamd=skipped (refused)');

    const d = perUid(B!);
    expect(lstatSync(d).isDirectory()).toBe(true);
    expect(statSync(d).uid).toBe(B);
    expect(statSync(d).mode & 0o7777).toBe(0o700);
    const file = join(d, breakerFileName(KEY(dead)));
    expect(statSync(file).uid).toBe(B);
    expect(statSync(file).mode & 0o7777).toBe(0o600);
    // A can neither read nor change it.
    const r = as(A!, `fs.writeFileSync(${JSON.stringify(file)}, 'x');`);
    expect(r.status).not.toBe(0);

    // B's next delivery follows B's own (open) breaker.
    const second = await deliverAs(B!, cfg);
    expect(second.code).toBe(0);
    expect(second.stored.map(scanLine).sort()).toEqual(['X-MDA-Scan: spamd=skipped (circuit-open)', 'X-MDA-Scan: spamd=skipped (refused)']);

    // A's delivery is not skipped because of B's breaker: it tries the scanner itself.
    const a = await deliverAs(A!, cfg);
    expect(a.code, a.output).toBe(0);
    expect(a.stored.map(scanLine)).toEqual(['X-MDA-Scan: spamd=skipped (refused)']);
    expect(statSync(join(perUid(A!), breakerFileName(KEY(dead)))).uid).toBe(A);
  });
});
