/**
 * Parses the date-time of a message header field (RFC 5322 §3.3, with the obsolete forms of
 * §4.3 that Pigeonhole also accepts: comments and white space anywhere, 2- and 3-digit years,
 * missing seconds, alphabetic and military zones) and time-zone arguments (RFC 5260 §4.1).
 * Owns only text → instant. Must not: read the clock or the local time zone. Pure.
 */

/** An instant and the zone it was written in. */
export interface ParsedDate {
  /** Milliseconds since the epoch, UTC. */
  ms: number;
  /** The zone's offset, minutes east of UTC (RFC 5322 "-0000" and unknown zones are 0). */
  offset: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** RFC 5322 §4.3 obs-zone: the US zones keep their meaning. */
const NAMED_ZONES: Readonly<Record<string, number>> = {
  ut: 0, gmt: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
};

/** Longest header value looked at: a date-time is about 40 characters; Received fields can be long. */
const MAX_INPUT = 4096;

/**
 * RFC 5322 §3.3 date-time after comments are blanked: [day-of-week ","] day month year
 * hour ":" minute [":" second] [zone]. CFWS may surround every token (§4.3 obs-*).
 */
const DATE_TIME =
  /^\s*(?:([A-Za-z]{3})\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s*(?:([+-])(\d{2})(\d{2})|([A-Za-z]{1,5}))?\s*$/;

/**
 * The date-time in a header field value, or null when there is none (RFC 5260 §4: the test is
 * then false). RFC 5260 §4: the date-time makes up the whole field, or follows its last
 * semicolon (Received).
 */
export function parseHeaderDate(value: string): ParsedDate | null {
  if (value.length > MAX_INPUT) return null;
  const whole = parseDateTime(value);
  if (whole) return whole;
  const semi = value.lastIndexOf(';');
  return semi < 0 ? null : parseDateTime(value.slice(semi + 1));
}

/** One RFC 5322 date-time, or null. */
export function parseDateTime(text: string): ParsedDate | null {
  const plain = blankComments(text);
  if (plain === null) return null;
  const m = DATE_TIME.exec(plain);
  if (!m) return null;
  const [, dow, dayS, monS, yearS, hourS, minS, secS, sign, zh, zm, zoneName] = m;
  if (dow !== undefined && !DAYS.includes(dow.toLowerCase())) return null;
  const month = MONTHS.indexOf(monS!.toLowerCase());
  if (month < 0) return null;
  let year = Number(yearS);
  // RFC 5322 §4.3: two-digit years 00-49 are 20xx, 50-99 are 19xx; three-digit years add 1900.
  if (yearS!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yearS!.length === 3) year += 1900;
  else if (year < 1900) return null; // §3.3: "year ... 1900 or later"
  const day = Number(dayS);
  const hour = Number(hourS);
  const minute = Number(minS);
  // second 60 is a leap second (§3.3); the instant is taken as :59, as Pigeonhole does.
  const second = secS === undefined ? 0 : Math.min(Number(secS), 59);
  if (day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || Number(secS ?? 0) > 60) return null;
  let offset = 0;
  if (sign !== undefined) {
    if (Number(zm) > 59) return null;
    offset = signed(sign, Number(zh) * 60 + Number(zm));
  } else if (zoneName !== undefined) {
    // §4.3: military zones were defined backwards in RFC 822 and any other unknown name means
    // "-0000" (no information): both are taken as UTC. (Dovecot reads military zones the RFC 822 way.)
    offset = NAMED_ZONES[zoneName.toLowerCase()] ?? 0;
  }
  const ms = Date.UTC(year, month, day, hour, minute, second) - offset * 60_000;
  return { ms, offset };
}

/**
 * A time-zone argument, "+hhmm" or "-hhmm" (RFC 5260 §4.1, the RFC 5322 zone syntax) → minutes
 * east of UTC; null when it is not one.
 */
export function parseZone(s: string): number | null {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(s);
  if (!m || Number(m[3]) > 59) return null;
  return signed(m[1]!, Number(m[2]) * 60 + Number(m[3]));
}

/** "-0000" is 0, not -0. */
const signed = (sign: string, minutes: number): number => (sign === '-' && minutes !== 0 ? -minutes : minutes);

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** Comments (RFC 5322 §3.2.2, nested, with quoted-pairs) become a space; null if one is unclosed. */
function blankComments(s: string): string | null {
  if (!s.includes('(')) return s;
  let out = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (depth > 0 && c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && depth > 0) {
      if (--depth === 0) out += ' ';
    } else if (depth === 0) out += c;
  }
  return depth === 0 ? out : null;
}
