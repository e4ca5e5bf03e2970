/**
 * The logger as the server uses it: no per-process line cap (that cap bounds one delivery,
 * not a server's life), while deliver keeps its 20 lines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { tempDir } from '../helpers/run-mda.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('mda-server-log-')));
afterEach(() => cleanup());

it.each([
  ['deliver (default): at most 20 lines', {}, 20],
  ['server (maxLines: Infinity): every line', { maxLines: Infinity }, 50],
])('%s', async (_name, options, expected) => {
  const path = join(dir, 'log');
  const logger = createLogger({ kind: 'file', path }, 'mda', undefined, options);
  for (let i = 0; i < 50; i++) logger.info(`line ${i}`);
  await logger.flush();
  expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(expected);
  expect(logger.dropped).toBe(50 - expected);
});
