import { describe, expect, it } from 'vitest';
import { decideFilter, firstLine, looksLikeMessage, type FilterRun } from '../../../src/scanners/filter/decide.js';

const MSG = Buffer.from('Subject: hi\nFrom: a@b\n\nbody\n');
const run = (over: Partial<FilterRun>): FilterRun => ({
  mode: 'rewrite', code: 0, signal: null, stderr: Buffer.alloc(0), outputSize: MSG.length, outputHead: MSG, maxSize: 1000, ...over,
});

describe('looksLikeMessage', () => {
  it.each([
    ['a header block and a body', 'Subject: hi\nFrom: a@b\n\nbody\n', true],
    ['CRLF line ends', 'Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n', true],
    ['a folded field', 'Subject: hi\n  there\n\tmore\nX: y\n\n', true],
    ['headers only, no blank line', 'Subject: hi\nX-A: 1\n', true],
    ['one field, no line end', 'Subject: hi', true],
    ['an empty field value', 'X-Empty:\n\nbody', true],
    ['a header block longer than the window (last line cut)', 'A: 1\nB: 2\nC: 3333', true],
    ['empty', '', false],
    ['a blank first line', '\nSubject: hi\n', false],
    ['an mbox From_ line', 'From a@b Mon Jan  1 00:00:00 2024\nSubject: hi\n\n', false],
    ['plain text', 'hello world\n', false],
    ['an error message after a field-like line', 'usage: filter [-x]\nsee the manual\n', false],
    ['a continuation as the first line', ' Subject: hi\n\n', false],
    ['a space before the colon', 'Subject : hi\n\n', false],
    ['a lone colon', ': hi\n\n', false],
    ['a line without a line end that is no field', 'hello', false],
    ['8-bit in a field name', 'Sübject: hi\n\n', false],
    ['garbage after the first field', 'Subject: hi\n\x00\x01\n\n', false],
  ])('%s → %s', (_name, text, expected) => {
    expect(looksLikeMessage(Buffer.from(text, 'latin1'))).toBe(expected);
  });
});

describe('firstLine', () => {
  it.each([
    ['', ''],
    ['one\ntwo\n', 'one'],
    ['\n\n  Eicar-Signature FOUND  \r\nmore', 'Eicar-Signature FOUND'],
    ['tab\there\x1b[31m', 'tab?here?[31m'],
    ['x'.repeat(500), 'x'.repeat(200)],
  ])('%j → %j', (text, expected) => {
    expect(firstLine(Buffer.from(text))).toBe(expected);
  });
});

describe('decideFilter', () => {
  it.each<[string, Partial<FilterRun>, string, string]>([
    // rewrite
    ['rewrite: exit 0 and a message', {}, 'clean', 'rewritten, 28 bytes'],
    ['rewrite: exit 1', { code: 1, stderr: Buffer.from('oops\n') }, 'skipped', 'exit 1: oops'],
    ['rewrite: exit 0, no output', { outputSize: 0, outputHead: Buffer.alloc(0) }, 'skipped', 'exit 0 but no output'],
    ['rewrite: killed', { code: null, signal: 'SIGKILL' }, 'skipped', 'killed by SIGKILL'],
    ['rewrite: killed, with stderr', { code: null, signal: 'SIGSEGV', stderr: Buffer.from('boom') }, 'skipped', 'killed by SIGSEGV: boom'],
    ['rewrite: output over max_size', { outputSize: 1001 }, 'skipped', 'output of 1001 bytes is over max_size (1000)'],
    ['rewrite: output exactly max_size', { outputSize: 1000 }, 'clean', 'rewritten, 1000 bytes'],
    ['rewrite: output is no message', { outputHead: Buffer.from('hello\n') }, 'skipped', 'output does not start with a header line'],
    ['rewrite: exit 2 is no verdict', { code: 2 }, 'skipped', 'exit 2'],
    // verdict
    ['verdict: exit 0', { mode: 'verdict', outputSize: 0 }, 'clean', 'exit 0'],
    ['verdict: exit 1', { mode: 'verdict', code: 1 }, 'spam', 'exit 1 (spam)'],
    ['verdict: exit 2', { mode: 'verdict', code: 2, stderr: Buffer.from('Eicar FOUND\nx') }, 'infected', 'exit 2 (infected): Eicar FOUND'],
    ['verdict: exit 3', { mode: 'verdict', code: 3 }, 'skipped', 'exit 3'],
    ['verdict: exit 127 (not found)', { mode: 'verdict', code: 127, stderr: Buffer.from("env: 'x': No such file or directory\n") }, 'skipped', "exit 127: env: 'x': No such file or directory"],
    ['verdict: killed', { mode: 'verdict', code: null, signal: 'SIGTERM' }, 'skipped', 'killed by SIGTERM'],
  ])('%s → %s', (_name, over, status, detail) => {
    const d = decideFilter(run(over));
    expect(d.status).toBe(status);
    expect(d.detail).toBe(detail);
  });

  it.each<[string, string]>([
    ['Eicar-Test-Signature FOUND\n', 'Eicar-Test-Signature FOUND'],
    ['', 'filter'],
    ['\n\n', 'filter'],
  ])('infected signature from stderr %j is %j', (stderr, signature) => {
    expect(decideFilter(run({ mode: 'verdict', code: 2, stderr: Buffer.from(stderr) }))).toMatchObject({ status: 'infected', signature });
  });

  it('only a clean rewrite keeps the output', () => {
    expect(decideFilter(run({}))).toMatchObject({ rewritten: true });
    expect(decideFilter(run({ mode: 'verdict' }))).toMatchObject({ rewritten: false });
  });
});
