/**
 * The date-parts of RFC 5260 §4.2: an instant seen in a zone → the string a date or currentdate
 * test matches. Owns the formats only. Must not: parse header text (date-parse.ts) or read the
 * clock. Pure.
 */

/** Every date-part RFC 5260 §4.2 defines (lower case; names compare case-insensitively). */
export const DATE_PARTS: ReadonlySet<string> = new Set([
  'year', 'month', 'day', 'date', 'julian', 'hour', 'minute', 'second', 'time', 'iso8601', 'std11', 'zone', 'weekday',
]);

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Modified Julian Day of 1970-01-01 (MJD 0 is 1858-11-17). */
const MJD_EPOCH = 40_587;
const DAY_MS = 86_400_000;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** "+hhmm" (the RFC 5322 zone syntax); with a colon for iso8601. */
function zoneText(offset: number, colon: boolean): string {
  const a = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}${colon ? ':' : ''}${pad(a % 60)}`;
}

/**
 * The value of `part` for the instant `ms` in the zone `offset` (minutes east of UTC);
 * undefined for a part RFC 5260 §4.2 does not define (the test is then false).
 */
export function datePart(ms: number, offset: number, part: string): string | undefined {
  const local = new Date(ms + offset * 60_000); // its UTC fields are the wall clock of the zone
  const year = pad(local.getUTCFullYear(), 4);
  const month = pad(local.getUTCMonth() + 1);
  const day = pad(local.getUTCDate());
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  switch (part.toLowerCase()) {
    case 'year':
      return year;
    case 'month':
      return month;
    case 'day':
      return day;
    case 'date':
      return `${year}-${month}-${day}`;
    case 'julian': // days since 1858-11-17, counted in the zone's calendar
      return String(Math.floor((ms + offset * 60_000) / DAY_MS) + MJD_EPOCH);
    case 'hour':
      return pad(local.getUTCHours());
    case 'minute':
      return pad(local.getUTCMinutes());
    case 'second':
      return pad(local.getUTCSeconds());
    case 'time':
      return time;
    case 'iso8601': // RFC 3339 date-time; Pigeonhole writes a zero offset as "Z"
      return `${year}-${month}-${day}T${time}${offset === 0 ? 'Z' : zoneText(offset, true)}`;
    case 'std11': // RFC 5322 §3.3 date-time
      return `${DAY_NAMES[local.getUTCDay()]}, ${day} ${MONTH_NAMES[local.getUTCMonth()]} ${year} ${time} ${zoneText(offset, false)}`;
    case 'zone':
      return zoneText(offset, false);
    case 'weekday': // 0 = Sunday
      return String(local.getUTCDay());
    default:
      return undefined;
  }
}
