/**
 * Streams the message from stdin into the Maildir tmp/ file, chunk by chunk
 * (memory stays flat for any size), dropping the From_ line and keeping the
 * header block for later stages. Every read waits only as long as the
 * deadline allows; the size limit is enforced as bytes arrive.
 * Reads through process.stdin, not fs.read on fd 0: a read blocked in the
 * thread pool makes process.exit() hang at the deadline (tested).
 * Must not: commit the message or pick outcomes other than size/empty.
 */
import type { Deadline } from '../deadline/deadline.js';
import type { Spool } from '../maildir/spool.js';
import { HeadSplitter, type Head } from '../message/head-splitter.js';
import { reject, temp, type Outcome } from '../outcome/outcome.js';

export async function spoolStdin(
  input: AsyncIterable<Buffer | string>,
  spool: Spool,
  maxSize: number,
  deadline: Deadline,
): Promise<Head | Outcome> {
  const splitter = new HeadSplitter();
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const store = async (bytes: Buffer): Promise<Outcome | undefined> => {
    if (bytes.length === 0) return undefined;
    if (spool.bytes + bytes.length > maxSize) {
      return reject('too-large', `message exceeds the limit of ${maxSize} bytes`);
    }
    await deadline.race(spool.write(bytes));
    return undefined;
  };
  for (;;) {
    const next = await deadline.race(chunks.next());
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    const stop = await store(splitter.feed(chunk));
    if (stop) return stop;
  }
  const stop = await store(splitter.end());
  if (stop) return stop;
  if (spool.bytes === 0) return temp('usage', 'empty message on stdin');
  return splitter.head();
}
