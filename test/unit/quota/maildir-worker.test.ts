/**
 * parseResult: the parent believes only a well-formed answer from a worker
 * (which runs as the user, so its output is the user's to shape).
 */
import { describe, expect, it } from 'vitest';
import { parseResult } from '../../../src/quota/maildir-worker.js';

describe('parseResult', () => {
  it.each<[string, string, unknown]>([
    ['usage with limits', '{"result":{"usage":{"bytes":10,"count":2},"limits":{"storage":100,"messages":0}}}', { usage: { bytes: 10, count: 2 }, limits: { storage: 100, messages: 0 } }],
    ['usage without limits', '{"result":{"usage":{"bytes":0,"count":0}}}', { usage: { bytes: 0, count: 0 } }],
    ['bad limits are dropped', '{"result":{"usage":{"bytes":1,"count":1},"limits":{"storage":"x"}}}', { usage: { bytes: 1, count: 1 } }],
    ['missing', '{"result":{"missing":true}}', { missing: true }],
    ['error', '{"result":{"error":"EACCES"}}', { error: 'EACCES' }],
    ['extra keys are not passed on', '{"result":{"error":"x","usage":{"bytes":1,"count":1}}}', { error: 'x' }],
    ['not JSON', 'Segmentation fault', undefined],
    ['no result', '{"usage":{"bytes":1,"count":1}}', undefined],
    ['usage with a string count', '{"result":{"usage":{"bytes":1,"count":"1"}}}', undefined],
    ['null result', '{"result":null}', undefined],
    ['empty line', '', undefined],
  ])('%s', (_name, line, want) => {
    expect(parseResult(line)).toEqual(want);
  });
});
