/**
 * A one-reader async iterable fed by a producer that must wait: the DATA bytes
 * go from the connection's onRaw (producer) to spoolStdin (reader). push()
 * resolves only once the reader has finished with that chunk (it asked for
 * the next one), so the socket stays paused while the spool writes: memory per
 * transaction stays one read chunk whatever the message size.
 * Must not: buffer more than the chunks one push() handed over, or know LMTP.
 */

interface Waiting {
  buf: Buffer;
  taken: () => void;
}

export class ByteChannel implements AsyncIterable<Buffer> {
  private readonly queue: Waiting[] = [];
  /** The chunk the reader holds now: released when it asks for the next. */
  private held: Waiting | undefined;
  private reader: ((r: IteratorResult<Buffer>) => void) | undefined;
  private failReader: ((err: Error) => void) | undefined;
  private ended = false;
  private failed: Error | undefined;
  private closed = false;

  /** push hands one chunk over; resolves when the reader is done with it (or no longer reads). */
  push(buf: Buffer): Promise<void> {
    if (this.closed || this.ended || this.failed) return Promise.resolve();
    return new Promise<void>((taken) => {
      this.queue.push({ buf, taken });
      this.wake();
    });
  }

  /** end: no more chunks; the reader sees the end after the queued ones. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** fail: the input is cut (client gone mid-DATA); the reader gets `err`, never a short message's end. */
  fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.release();
    this.wake();
  }

  /** close: the reader stopped early (an outcome or an error); pending and later pushes resolve at once. */
  close(): void {
    this.closed = true;
    // A reader still waiting (nobody will push again) must not wait forever.
    if (!this.ended) this.fail(new Error('input closed'));
    this.release();
  }

  private release(): void {
    this.held?.taken();
    this.held = undefined;
    for (const w of this.queue.splice(0)) w.taken();
  }

  private wake(): void {
    const resolve = this.reader;
    const reject = this.failReader;
    if (!resolve || !reject) return;
    if (this.failed) {
      this.reader = this.failReader = undefined;
      return reject(this.failed);
    }
    const w = this.queue.shift();
    if (w) {
      this.reader = this.failReader = undefined;
      this.held = w;
      return resolve({ value: w.buf, done: false });
    }
    if (this.ended) {
      this.reader = this.failReader = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () => {
        // Asking for the next chunk means the previous one is written: its producer may go on.
        this.held?.taken();
        this.held = undefined;
        return new Promise<IteratorResult<Buffer>>((resolve, reject) => {
          this.reader = resolve;
          this.failReader = reject;
          this.wake();
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
