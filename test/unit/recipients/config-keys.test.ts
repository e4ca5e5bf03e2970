import { describe, expect, it } from 'vitest';
import { formatIssue, validateConfig } from '../../../src/config/validate.js';

const FILE = '/etc/mda/mda.toml';

describe('[delivery] domains and recipient_delimiter', () => {
  it('defaults: every domain is local, "+" like Postfix', () => {
    const r = validateConfig({}, FILE, '');
    expect('config' in r && r.config.recipients).toEqual({ domains: [], delimiter: '+' });
  });

  it.each([
    [{ domains: ['Example.COM', 'bücher.example', 'example.net.'] }, { domains: ['example.com', 'xn--bcher-kva.example', 'example.net'], delimiter: '+' }],
    [{ recipient_delimiter: '+-' }, { domains: [], delimiter: '+-' }],
    [{ recipient_delimiter: '' }, { domains: [], delimiter: '' }],
  ])('%j', (delivery, want) => {
    const r = validateConfig({ delivery }, FILE, '');
    expect('config' in r && r.config.recipients).toEqual(want);
  });

  it.each([
    [{ domains: 'example.com' }, /delivery\.domains: must be an array/],
    [{ domains: ['a@example.com'] }, /delivery\.domains: element 1 .* is not a domain name/],
    [{ domains: [''] }, /delivery\.domains: element 1/],
    [{ recipient_delimiter: 1 }, /recipient_delimiter: must be a string/],
    [{ recipient_delimiter: 'x' }, /recipient_delimiter: "x" cannot be a delimiter/],
    [{ recipient_delimiter: '@' }, /recipient_delimiter: "@" cannot be a delimiter/],
    [{ recipient_delimiter: ' ' }, /cannot be a delimiter/],
  ])('%j is refused', (delivery, want) => {
    const r = validateConfig({ delivery }, FILE, '');
    expect('errors' in r && r.errors.map(formatIssue).join('\n')).toMatch(want);
  });
});
