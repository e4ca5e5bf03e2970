/**
 * Date-time parsing of header fields (RFC 5322 §3.3 and the obsolete forms of §4.3, as RFC 5260
 * §4 requires) and date-part extraction (RFC 5260 §4.2), as tables. The expected values were
 * checked against Pigeonhole 0.5.19's sieve-test where the two agree (noted where they differ).
 */
import { describe, expect, it } from 'vitest';
import { parseDateTime, parseHeaderDate, parseZone } from '../../../src/sieve/date-parse.js';
import { DATE_PARTS, datePart } from '../../../src/sieve/date-parts.js';

/** The parsed instant as UTC ISO text plus the zone offset in minutes, or null. */
function parsed(text: string): string | null {
  const d = parseHeaderDate(text);
  return d === null ? null : `${new Date(d.ms).toISOString()} ${d.offset}`;
}

describe('RFC 5322 §3.3: date-time', () => {
  it.each<[string, string | null]>([
    ['Fri, 23 Jan 2009 13:20:34 +0100', '2009-01-23T12:20:34.000Z 60'],
    ['23 Jan 2009 13:20:34 +0100', '2009-01-23T12:20:34.000Z 60'], // day-of-week is optional
    ['Fri, 23 Jan 2009 13:20 -0530', '2009-01-23T18:50:00.000Z -330'], // seconds are optional
    ['Sun, 29 Feb 2004 00:00:00 +0000', '2004-02-29T00:00:00.000Z 0'], // leap day
    ['fri, 23 JAN 2009 13:20:34 +0100', '2009-01-23T12:20:34.000Z 60'], // names are case-insensitive
    ['Fri, 23 Jan 2009 13:20:34 -1230', '2009-01-24T01:50:34.000Z -750'],
    ['Fri, 32 Jan 2009 13:20:34 +0100', null], // RFC 5260 §4: January 32nd is not a date
    ['Mon, 29 Feb 2010 13:20:34 +0100', null], // no leap day in 2010
    ['Fri, 23 Jan 2009 24:00:00 +0100', null],
    ['Fri, 23 Jan 2009 13:60:00 +0100', null],
    ['Fri, 23 Jan 2009 13:20:34 +0160', null], // zone minutes over 59
    ['Fri, 23 Jan 1899 13:20:34 +0100', null], // §3.3: year 1900 or later
    ['Friday, 23 Jan 2009 13:20:34 +0100', null],
    ['Fri, 23 January 2009 13:20:34 +0100', null],
    ['Fri, 3 Jan 2009 1:2:3 +0100', null], // hour and minute are 2DIGIT
    ['Fri, 23 Jan 2009 13:20:34 +0100 garbage', null],
    ['Fri, 23 Jan 2009 13:20:34 +0100 (unclosed', null],
    ['garbage', null],
    ['', null],
  ])('%j → %s', (text, want) => expect(parsed(text)).toBe(want));
});

describe('RFC 5322 §4.3: obsolete date-time forms', () => {
  it.each<[string, string | null]>([
    ['Fri, 23 Jan 09 13:20:34 +0100', '2009-01-23T12:20:34.000Z 60'], // 2-digit year 00-49 is 20xx
    ['Sat, 23 Jan 99 13:20:34 +0100', '1999-01-23T12:20:34.000Z 60'], // 50-99 is 19xx
    ['Fri, 23 Jan 109 13:20:34 +0100', '2009-01-23T12:20:34.000Z 60'], // 3 digits: + 1900 (Pigeonhole refuses)
    ['Fri, 23 Jan 2009 13:20:34 GMT', '2009-01-23T13:20:34.000Z 0'],
    ['Fri, 23 Jan 2009 13:20:34 UT', '2009-01-23T13:20:34.000Z 0'],
    ['Fri, 23 Jan 2009 13:20:34 EST', '2009-01-23T18:20:34.000Z -300'],
    ['Fri, 23 Jan 2009 13:20:34 PDT', '2009-01-23T20:20:34.000Z -420'],
    ['Fri, 23 Jan 2009 13:20:34 CET', '2009-01-23T13:20:34.000Z 0'], // unknown names mean -0000
    ['Fri, 23 Jan 2009 13:20:34 A', '2009-01-23T13:20:34.000Z 0'], // military zones too (Pigeonhole: +0100)
    ['Fri, 23 Jan 2009 13:20:34 -0000', '2009-01-23T13:20:34.000Z 0'],
    ['Fri, 23 Jan 2009 13:20:34', '2009-01-23T13:20:34.000Z 0'], // no zone, as Pigeonhole accepts
    ['Fri, 23 Jan 2009 13:20:60 +0000', '2009-01-23T13:20:59.000Z 0'], // leap second, taken as :59
    ['Fri , 23 Jan 2009 13 : 20 : 34 +0100', '2009-01-23T12:20:34.000Z 60'], // CFWS around tokens
    ['Fri,23 Jan 2009 13:20:34 +0100', '2009-01-23T12:20:34.000Z 60'],
    ['(c) Fri, 23 (x (nested)) Jan 2009 13:20:34 +0100 (CET)', '2009-01-23T12:20:34.000Z 60'], // comments
    ['Fri, 23 Jan 2009 13:20:34 +0100 (a \\) b)', '2009-01-23T12:20:34.000Z 60'], // quoted-pair in a comment
  ])('%j → %s', (text, want) => expect(parsed(text)).toBe(want));
});

describe('RFC 5260 §4: the date-time of a Received field follows its last semicolon', () => {
  it.each<[string, string | null]>([
    ['from a by b with ESMTP id 1; Mon, 5 Jan 2009 01:02:03 -0500', '2009-01-05T06:02:03.000Z -300'],
    ['from a (x; y) by b; Mon, 5 Jan 2009 01:02:03 -0500', '2009-01-05T06:02:03.000Z -300'],
    ['from a by b; not a date', null],
    ['from a by b', null],
  ])('%j → %s', (text, want) => expect(parsed(text)).toBe(want));
  it('a whole field is tried first, and an over-long one is not parsed', () => {
    expect(parseDateTime('Mon, 5 Jan 2009 01:02:03 -0500')?.offset).toBe(-300);
    expect(parseHeaderDate(`${'x'.repeat(5000)}; Mon, 5 Jan 2009 01:02:03 -0500`)).toBeNull();
  });
});

describe('RFC 5260 §4.1: time-zone arguments', () => {
  it.each<[string, number | null]>([
    ['+0100', 60], ['-0000', 0], ['-0530', -330], ['+1400', 840], ['+0060', null], ['0100', null], ['+01:00', null], ['+100', null], ['bogus', null], ['', null],
  ])('%j → %s', (text, want) => expect(parseZone(text)).toBe(want));
});

describe('RFC 5260 §4.2: date-parts', () => {
  // Fri, 23 Jan 2009 13:20:34 +0000 (a Friday), seen in three zones
  const ms = Date.UTC(2009, 0, 23, 13, 20, 34);
  it.each<[string, number, string]>([
    ['year', 0, '2009'],
    ['month', 0, '01'],
    ['day', 0, '23'],
    ['date', 0, '2009-01-23'],
    ['julian', 0, '54854'], // Modified Julian Day: days since 1858-11-17
    ['hour', 0, '13'],
    ['minute', 0, '20'],
    ['second', 0, '34'],
    ['time', 0, '13:20:34'],
    ['iso8601', 0, '2009-01-23T13:20:34Z'], // Pigeonhole writes a zero offset as Z
    ['std11', 0, 'Fri, 23 Jan 2009 13:20:34 +0000'],
    ['zone', 0, '+0000'],
    ['weekday', 0, '5'], // 0 is Sunday
    ['iso8601', 90, '2009-01-23T14:50:34+01:30'],
    ['iso8601', -30, '2009-01-23T12:50:34-00:30'],
    ['zone', -330, '-0530'],
    // +1100: already the next day, a Saturday
    ['date', 660, '2009-01-24'],
    ['julian', 660, '54855'],
    ['weekday', 660, '6'],
    ['std11', 660, 'Sat, 24 Jan 2009 00:20:34 +1100'],
    ['YEAR', 0, '2009'], // part names compare case-insensitively, as in Pigeonhole
  ])('%s in zone %i → %s', (part, offset, want) => expect(datePart(ms, offset, part)).toBe(want));

  it('the day of std11 is two digits, and julian counts before 1970 too', () => {
    expect(datePart(Date.UTC(2009, 0, 5, 6, 2, 3), -300, 'std11')).toBe('Mon, 05 Jan 2009 01:02:03 -0500');
    expect(datePart(Date.UTC(1858, 10, 17, 12), 0, 'julian')).toBe('0');
    expect(datePart(Date.UTC(1858, 10, 16, 23, 59), 0, 'julian')).toBe('-1');
  });

  it('an unknown part has no value, and every defined part has one', () => {
    expect(datePart(ms, 0, 'fortnight')).toBeUndefined();
    for (const p of DATE_PARTS) expect(datePart(ms, 0, p)).toMatch(/\S/);
    expect(DATE_PARTS.size).toBe(13);
  });
});
