/**
 * Test driver (test code, not a CLI): many delivery sessions at once in ONE
 * process, through the same core `mda deliver` uses. Each message is spooled
 * once and delivered to every recipient (deliverMessage); all messages run
 * concurrently. Bundled and spawned by test/integration/session-driver.test.ts
 * (as an unprivileged mail uid when the test runs as root); prints one JSON
 * line with every recipient's outcome.
 * As root with `system: true`, the users are system accounts and every copy is
 * committed by that uid's worker process (session/uid-workers.ts): this same
 * bundle, started with `--mda-uid-worker`.
 * argv[2]: JSON { base, users, messages, quota, prepend, system }.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/schema.js';
import { Deadline } from '../../src/deadline/deadline.js';
import { createLogger } from '../../src/log/logger.js';
import { createNameSource } from '../../src/maildir/name-source.js';
import { Spool } from '../../src/maildir/spool.js';
import { deliverMessage } from '../../src/pipeline/deliver-message.js';
import { spoolStdin } from '../../src/pipeline/spool-stdin.js';
import { openSession } from '../../src/session/session.js';
import { runUidWorker } from '../../src/session/uid-worker-main.js';
import { UidWorkers } from '../../src/session/uid-workers.js';

interface Job {
  base: string;
  users: string[];
  messages: number;
  /** [quota] storage in bytes (0 = none). */
  quota: number;
  /** Prepend a Delivered-To per recipient (forces copies instead of hard links). */
  prepend: boolean;
  /** The users are system accounts of other uids (root only): per-uid workers. */
  system?: boolean;
}

async function main(job: Job): Promise<void> {
  const config = defaultConfig();
  config.log.target = { kind: 'none' };
  config.locks.timeoutMs = 120_000;
  config.quota.storage = job.quota;
  config.sieve.script = '';
  config.users = Object.create(null) as typeof config.users;
  for (const u of job.users) config.users[u] = { maildir: join(job.base, 'mail', u) };
  const names = createNameSource(); // one per process, shared by every session
  const spoolRoot = join(job.base, 'spool');
  mkdirSync(join(spoolRoot, 'tmp'), { recursive: true });
  const workers = job.system ? new UidWorkers({ execPath: process.execPath, args: [process.argv[1]!, '--mda-uid-worker'] }, config) : undefined;

  const one = async (n: number) => {
    const deadline = Deadline.start(180_000, { graceMs: 5_000, onHardStop: () => undefined });
    const s = openSession({ config, deadline, logger: createLogger({ kind: 'none' }), names });
    const text = `Message-ID: <m${n}@driver.test>\nSubject: message ${n}\n\n${'x'.repeat(n * 7)}\n`;
    const spool = await Spool.create(spoolRoot, names);
    try {
      const head = await spoolStdin((async function* () { yield Buffer.from(text); })(), spool, config.delivery.maxMessageSize, deadline);
      if ('kind' in head) throw new Error(`spool: ${JSON.stringify(head)}`);
      const rcpts = job.users.map((user) => ({
        user,
        envelope: { sender: 'sender@driver.test', recipient: `${user}@driver.test`, originalRecipient: `${user}@driver.test`, extension: '' },
        prepend: job.prepend ? Buffer.from(`Delivered-To: ${user}@driver.test\n`) : undefined,
      }));
      const results = await deliverMessage(s, { spool, header: head.header }, rcpts, workers);
      return results.map((r) => ({ message: n, user: r.user, outcome: r.outcome }));
    } finally {
      await spool.discard();
      deadline.dispose();
    }
  };
  const all = await Promise.all(Array.from({ length: job.messages }, (_, n) => one(n)));
  workers?.close();
  process.stdout.write(JSON.stringify(all.flat()) + '\n');
}

if (process.argv[2] === '--mda-uid-worker') runUidWorker();
else await main(JSON.parse(process.argv[2]!) as Job);
