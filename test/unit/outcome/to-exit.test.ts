import { describe, expect, it } from 'vitest';
import { classifyError } from '../../../src/outcome/classify.js';
import { OutcomeError, delivered, discarded, reject, temp, type Outcome } from '../../../src/outcome/outcome.js';
import { REJECT_TABLE, TEMP_TABLE, cleanDetail, toExit } from '../../../src/outcome/to-exit.js';

/** Exit codes after which Postfix defers (sys_exits.c); everything else non-zero bounces. */
const POSTFIX_DEFERS = new Set([71, 75]);

const every: Outcome[] = [
  delivered('', '/m/new/x'),
  discarded('rule'),
  ...Object.keys(TEMP_TABLE).map((c) => temp(c as keyof typeof TEMP_TABLE, 'detail')),
  ...Object.keys(REJECT_TABLE).map((c) => reject(c as keyof typeof REJECT_TABLE, 'detail')),
];

describe('toExit: the whole contract with Postfix', () => {
  it.each(every.map((o) => [o.kind + ('cause' in o ? `/${o.cause}` : ''), o]))('%s keeps DSN class and exit code in agreement', (_n, o) => {
    const plan = toExit(o);
    if (o.kind === 'delivered' || o.kind === 'discarded') {
      expect(plan).toMatchObject({ code: 0, line: '' });
      return;
    }
    // one line, DSN at byte 0 followed by a space (Postfix dsn_valid), printable, short
    expect(plan.line).toMatch(/^[45]\.\d{1,3}\.\d{1,3} \S/);
    expect(plan.line.endsWith('\n')).toBe(true);
    expect(plan.line.slice(0, -1)).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(plan.line.length).toBeLessThan(4095);
    expect(plan.line.startsWith(plan.dsn + ' ')).toBe(true);
    if (plan.dsn.startsWith('4')) expect(plan.code).toBe(75);
    else {
      expect(POSTFIX_DEFERS.has(plan.code)).toBe(false);
      expect(plan.code).not.toBe(0);
      expect([1, 70]).not.toContain(plan.code);
    }
  });

  it.each([
    [temp('config', 'x'), 75, '4.3.5'],
    [temp('unexpected', 'x'), 75, '4.3.0'],
    [temp('usage', 'x'), 75, '4.3.0'],
    [temp('deadline', 'x'), 75, '4.4.7'],
    [temp('disk-full', 'x'), 75, '4.3.1'],
    [temp('mailbox-full', 'x'), 75, '4.2.2'],
    [reject('unknown-user', 'x'), 67, '5.1.1'],
    [reject('too-large', 'x'), 77, '5.2.3'],
    [reject('loop', 'x'), 77, '5.4.6'],
  ] as const)('%o → exit %i with %s', (o, code, dsn) => {
    expect(toExit(o)).toMatchObject({ code, dsn });
  });

  it('turns an unknown outcome into a deferral, never a crash', () => {
    expect(toExit({ kind: 'nonsense' } as unknown as Outcome).code).toBe(75);
    expect(toExit({ kind: 'reject', cause: 'nope', detail: '' } as unknown as Outcome).code).toBe(75);
    expect(toExit({ kind: 'temp', cause: 'nope', detail: '' } as unknown as Outcome).dsn).toBe('4.3.0');
  });

  it.each([
    ['a\nb\r\nc', 'a b c'],
    ['\x1b[31mred', '[31mred'],
    ['x'.repeat(1000), 'x'.repeat(297) + '...'],
    ['  padded  ', 'padded'],
  ])('cleanDetail(%j) is one printable line', (raw, want) => {
    expect(cleanDetail(raw)).toBe(want);
  });
});

describe('classifyError: errno → temporary outcome (like Postfix mbox_dsn)', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: boom`), { code });
  it.each([
    ['ENOSPC', '4.3.1'],
    ['EDQUOT', '4.2.2'],
    ['EFBIG', '4.3.0'], // not while writing the message (that is 5.2.2: classify.test.ts)
    ['EIO', '4.3.0'],
    ['EROFS', '4.3.0'],
    ['EACCES', '4.2.0'],
    ['ENOENT', '4.2.0'],
    ['ELOOP', '4.2.0'],
    ['ESTALE', '4.2.0'],
    ['EAGAIN', '4.2.0'],
    ['EMFILE', '4.3.0'],
    ['EWEIRD', '4.3.0'],
  ])('%s → 75 %s', (code, dsn) => {
    const plan = toExit(classifyError(errno(code)));
    expect(plan).toMatchObject({ code: 75, dsn });
    expect(plan.line).toContain(code);
  });

  it('keeps an OutcomeError as thrown', () => {
    expect(classifyError(new OutcomeError(reject('loop', 'x')))).toEqual(reject('loop', 'x'));
  });
  it.each([[new Error('plain')], ['a string'], [undefined], [{ weird: true }]])('never bounces on %o', (e) => {
    expect(toExit(classifyError(e))).toMatchObject({ code: 75, dsn: '4.3.0' });
  });
});
