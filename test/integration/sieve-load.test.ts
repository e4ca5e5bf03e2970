/**
 * loadSieveScripts on a real temp dir (issue 9 finding 1): user paths are
 * refused unless regular files, without blocking on a FIFO, and the
 * delivery's abort (deadline, signal) is rethrown, never turned into "the
 * scripts were not run, store in INBOX".
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { Deadline } from '../../src/deadline/deadline.js';
import { createLogger } from '../../src/log/logger.js';
import { OutcomeError, temp } from '../../src/outcome/outcome.js';
import { loadSieveScripts } from '../../src/pipeline/sieve-load.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('mda-sieve-load-')));
afterEach(() => t.cleanup());

const deadline = () => Deadline.start(5_000, { graceMs: 60_000, onHardStop: () => undefined });
const config = (script: string) => ({ ...defaultConfig(), sieve: { ...defaultConfig().sieve, script } });
const logger = createLogger({ kind: 'none' });

describe('loadSieveScripts', () => {
  it('a FIFO as the script is an error at once (not a wait, not "no script")', async () => {
    const path = join(t.dir, 'fifo.sieve');
    execFileSync('mkfifo', [path]);
    const d = deadline();
    const r = await loadSieveScripts(config(path), 'u', t.dir, d, logger);
    d.dispose();
    expect(r.kind).toBe('error');
    expect(r.kind === 'error' && r.errors.join()).toMatch(/not a regular file \(a FIFO\)/);
  });

  it('an aborted delivery is rethrown, not reported as a script error', async () => {
    const path = join(t.dir, 'ok.sieve');
    writeFileSync(path, 'keep;\n');
    const d = deadline();
    d.abort(temp('signal', 'received SIGTERM'));
    await expect(loadSieveScripts(config(path), 'u', t.dir, d, logger)).rejects.toBeInstanceOf(OutcomeError);
    d.dispose();
  });
});
