/**
 * Test driver (test code, not a CLI): many delivery sessions at once in ONE
 * process, through the same core `mda deliver` uses. Each message is spooled
 * once and delivered to every recipient (deliverMessage); all messages run
 * concurrently. Bundled and spawned by test/integration/session-driver.test.ts
 * (as an unprivileged mail uid when the test runs as root); prints one JSON
 * line with every recipient's outcome.
 * argv[2]: JSON { base, users, messages, quota, prepend }.
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

interface Job {
  base: string;
  users: string[];
  messages: number;
  /** [quota] storage in bytes (0 = none). */
  quota: number;
  /** Prepend a Delivered-To per recipient (forces copies instead of hard links). */
  prepend: boolean;
}

const job = JSON.parse(process.argv[2]!) as Job;
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

async function one(n: number) {
  const deadline = Deadline.start(180_000, { graceMs: 5_000, onHardStop: () => undefined });
  const s = openSession({ config, deadline, logger: createLogger({ kind: 'none' }), names });
  const text = `Message-ID: <m${n}@driver.test>\nSubject: message ${n}\n\n${'x'.repeat(n * 7)}\n`;
  const spool = await Spool.create(spoolRoot, names);
  const input = (async function* () { yield Buffer.from(text); })();
  const head = await spoolStdin(input, spool, config.delivery.maxMessageSize, deadline);
  if ('kind' in head) throw new Error(`spool: ${JSON.stringify(head)}`);
  try {
    const results = await deliverMessage(s, { spool, header: head.header }, job.users.map((user) => ({
      user,
      envelope: { sender: 'sender@driver.test', recipient: `${user}@driver.test`, originalRecipient: `${user}@driver.test`, extension: '' },
      prepend: job.prepend ? Buffer.from(`Delivered-To: ${user}@driver.test\n`) : undefined,
    })));
    return results.map((r) => ({ message: n, user: r.user, outcome: r.outcome }));
  } finally {
    await spool.discard();
    deadline.dispose();
  }
}

const all = await Promise.all(Array.from({ length: job.messages }, (_, n) => one(n)));
process.stdout.write(JSON.stringify(all.flat()) + '\n');
