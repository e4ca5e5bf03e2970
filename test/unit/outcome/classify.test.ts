import { describe, expect, it } from 'vitest';
import { classifyError, whileWritingMessage } from '../../../src/outcome/classify.js';
import { toExit } from '../../../src/outcome/to-exit.js';

const errno = (code: string) => Object.assign(new Error(`${code}: boom`), { code });

// Postfix mbox_dsn() (global/mbox_open.c) maps EDQUOT and EFBIG to 5.2.2. mda follows it for
// EFBIG only while writing the message itself (the message alone is over mailbox_size_limit),
// and for EDQUOT only as [quota] over_quota says, like a Maildir++ quota.
describe('classifyError: EFBIG and EDQUOT (issue 9 #14, Postfix mbox_dsn)', () => {
  it.each<[string, string, boolean, 'bounce' | 'defer' | undefined, number, string]>([
    ['EFBIG writing the message copy', 'EFBIG', true, 'defer', 77, '5.2.2'],
    ['EFBIG writing the message copy (bounce policy)', 'EFBIG', true, 'bounce', 77, '5.2.2'],
    ['EFBIG writing the message copy, no policy given', 'EFBIG', true, undefined, 77, '5.2.2'],
    ['EFBIG on another file (log, state, maildirsize)', 'EFBIG', false, 'bounce', 75, '4.3.0'],
    ['EDQUOT, over_quota = "bounce"', 'EDQUOT', false, 'bounce', 77, '5.2.2'],
    ['EDQUOT writing the message, over_quota = "bounce"', 'EDQUOT', true, 'bounce', 77, '5.2.2'],
    ['EDQUOT, over_quota = "defer"', 'EDQUOT', true, 'defer', 75, '4.2.2'],
    ['EDQUOT, no policy given: never a bounce', 'EDQUOT', false, undefined, 75, '4.2.2'],
    ['ENOSPC writing the message: still temporary', 'ENOSPC', true, 'bounce', 75, '4.3.1'],
    ['EIO writing the message: still temporary', 'EIO', true, 'bounce', 75, '4.3.0'],
  ])('%s', (_name, code, message, overQuota, exit, dsn) => {
    const err = errno(code);
    const thrown = message ? whileWritingMessage(err) : err;
    const plan = toExit(classifyError(thrown, 'delivery', overQuota ? { overQuota } : undefined));
    expect(plan).toMatchObject({ code: exit, dsn });
    expect(plan.line).toContain(code);
  });

  it('whileWritingMessage keeps the error itself (code, message, identity)', () => {
    const err = errno('EFBIG');
    expect(whileWritingMessage(err)).toBe(err);
    expect(err.code).toBe('EFBIG');
  });

  it.each([['a string'], [undefined], [null]])('whileWritingMessage(%o) passes a non-object through', (v) => {
    expect(whileWritingMessage(v)).toBe(v);
  });
});
