import { describe, expect, it } from 'vitest';
import { mergeTargets, type CommitTarget } from '../../../src/commit/prepare-folders.js';

const t = (mailbox: string, dir: string, flags: string[] = [], extra: Partial<CommitTarget> = {}): CommitTarget => ({ mailbox, dir, flags, create: true, ...extra });

describe('mergeTargets: one copy per directory (RFC 5228 §2.10.3: duplicate fileinto/keep store once), flags of all', () => {
  it.each<[string, CommitTarget[], Array<[string, string[]]>]>([
    ['nothing', [], []],
    ['distinct folders stay apart, in order', [t('Work', '.Work'), t('INBOX', '')], [['.Work', []], ['', []]]],
    ['two fallbacks into INBOX become one copy', [t('INBOX', '', ['\\Seen']), t('INBOX', '', ['\\Flagged'])], [['', ['\\Seen', '\\Flagged']]]],
    ['the same flag once', [t('A', '.A', ['\\Seen']), t('A', '.A', ['\\Seen'])], [['.A', ['\\Seen']]]],
  ])('%s', (_, input, want) => {
    expect(mergeTargets(input).map((x) => [x.dir, x.flags])).toEqual(want);
  });

  it('does not change its input', () => {
    const a = t('INBOX', '', ['\\Seen']);
    mergeTargets([a, t('INBOX', '', ['\\Flagged'])]);
    expect(a.flags).toEqual(['\\Seen']);
  });
});
