/**
 * What `mda quota report` says: one row per Maildir (percent and status), the
 * table/json/csv text, `--over` filtering, the progress line and the exit status.
 * Pure: no I/O (the command measures, this module only decides and formats).
 */
import type { QuotaLimits, Usage } from './maildirsize.js';

/** One measured Maildir: usage, or missing, or why it could not be read. */
export interface Measured {
  user: string;
  maildir: string;
  limits: QuotaLimits;
  result: { usage: Usage } | { missing: true } | { error: string };
}

/** A report row; its keys, in this order, are the JSON and CSV schema. null = unlimited or unknown. */
export interface Row {
  user: string;
  maildir: string;
  bytes: number | null;
  storageLimit: number | null;
  storagePercent: number | null;
  messages: number | null;
  messageLimit: number | null;
  messagePercent: number | null;
  /** `ok`, `warn` (≥ 90 %), `over` (at or over a limit), `missing`, or `error: <why>`. */
  status: string;
}

export const FORMATS = ['table', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

/** Exit statuses: 1 is "some over" only with --over; any error wins. */
export const EXIT_OK = 0;
export const EXIT_OVER = 1;
export const EXIT_ERROR = 2;

const WARN_PERCENT = 90;
/** Byte and message counts are whole numbers; floor guards BigInt against a stray fraction. */
const big = (n: number): bigint => BigInt(Math.floor(n));

/**
 * percentOf is used/limit in percent, floored to 2 decimals with integer
 * arithmetic, so 89.999 % never shows as 90 and 29/100 is exactly 29.
 */
export function percentOf(used: number, limit: number): number | null {
  if (limit <= 0) return null;
  return Number((big(used) * 10_000n) / big(limit)) / 100;
}

/** statusOf: over at or above any limit, warn at ≥ 90 % of any; exact (no float rounding). */
export function statusOf(usage: Usage, limits: QuotaLimits): 'ok' | 'warn' | 'over' {
  const pairs: [number, number][] = [
    [usage.bytes, limits.storage],
    [usage.count, limits.messages],
  ];
  const set = pairs.filter(([, limit]) => limit > 0);
  if (set.some(([used, limit]) => used >= limit)) return 'over';
  if (set.some(([used, limit]) => big(used) * 100n >= big(limit) * BigInt(WARN_PERCENT))) return 'warn';
  return 'ok';
}

export function buildRow(m: Measured): Row {
  const limit = (n: number): number | null => (n > 0 ? n : null);
  const row: Row = {
    user: m.user,
    maildir: m.maildir,
    bytes: null,
    storageLimit: limit(m.limits.storage),
    storagePercent: null,
    messages: null,
    messageLimit: limit(m.limits.messages),
    messagePercent: null,
    status: 'missing',
  };
  if ('error' in m.result) row.status = `error: ${m.result.error}`;
  if (!('usage' in m.result)) return row;
  const u = m.result.usage;
  return {
    ...row,
    bytes: u.bytes,
    storagePercent: percentOf(u.bytes, m.limits.storage),
    messages: u.count,
    messagePercent: percentOf(u.count, m.limits.messages),
    status: statusOf(u, m.limits),
  };
}

/**
 * parseOver reads `--over N` (a percentage, `90` or `90%` or `99.5`).
 * undefined = no --over given.
 */
export function parseOver(v: string | number | undefined): number | undefined | { error: string } {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(String(v));
  if (!m) return { error: `--over must be a percentage like 90 or 99.5, got ${JSON.stringify(String(v))}` };
  return Number(m[1]);
}

/** isAtOrOver: usage is at least `percent` % of the storage or the message limit (unlimited never is). */
export function isAtOrOver(row: Row, percent: number): boolean {
  const reaches = (used: number | null, limit: number | null): boolean =>
    used !== null && limit !== null && used * 100 >= percent * limit;
  return reaches(row.bytes, row.storageLimit) || reaches(row.messages, row.messageLimit);
}

export function filterOver(rows: readonly Row[], percent: number | undefined): Row[] {
  return percent === undefined ? [...rows] : rows.filter((r) => isAtOrOver(r, percent));
}

/** exitStatus: 2 on any error; with --over 1 if any row is shown, else 0. */
export function exitStatus(errors: number, over: number | undefined, shown: number): number {
  if (errors > 0) return EXIT_ERROR;
  return over !== undefined && shown > 0 ? EXIT_OVER : EXIT_OK;
}

/** humanSize: 1024-based like du -h; one decimal below 10 unless exact (`1.2G`, `512K`, `3G`, `999`). */
export function humanSize(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let u = 0;
  let v = bytes;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return String(bytes);
  if (Number.isInteger(v)) return `${v}${units[u]}`;
  const shown = v < 10 ? Math.round(v * 10) / 10 : Math.round(v);
  // 1023.6K rounds to 1024K: say 1.0M instead
  if (shown >= 1024 && u < units.length - 1) return `1.0${units[u + 1]}`;
  return v < 10 ? `${shown.toFixed(1)}${units[u]}` : `${shown}${units[u]}`;
}

/**
 * tablePercent: the larger of storage and message use (`-` when both are unlimited): a Maildir is
 * full at whichever limit it reaches first, like df's USE% for the fuller of blocks and inodes.
 */
function tablePercent(r: Row): string {
  const set = [r.storagePercent, r.messagePercent].filter((p): p is number => p !== null);
  if (set.length === 0) return '-';
  const p = Math.max(...set);
  return `${(Math.floor(p * 10) / 10).toFixed(1)}%`;
}

/** printable escapes control characters, so a hostile directory name cannot drive the terminal. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const COLUMNS: { head: string; right: boolean; cell: (r: Row) => string }[] = [
  { head: 'USER', right: false, cell: (r) => printable(r.user) },
  { head: 'MAILDIR', right: false, cell: (r) => printable(r.maildir) },
  { head: 'USED', right: true, cell: (r) => (r.bytes === null ? '-' : humanSize(r.bytes)) },
  { head: 'LIMIT', right: true, cell: (r) => (r.storageLimit === null ? '-' : humanSize(r.storageLimit)) },
  { head: 'USE%', right: true, cell: tablePercent },
  { head: 'MSGS', right: true, cell: (r) => (r.messages === null ? '-' : String(r.messages)) },
  { head: 'MSG LIMIT', right: true, cell: (r) => (r.messageLimit === null ? '-' : String(r.messageLimit)) },
  { head: 'STATUS', right: false, cell: (r) => printable(r.status) },
];

/** formatTable: a header and aligned columns (text left, numbers right), no trailing blanks. */
export function formatTable(rows: readonly Row[]): string {
  const cells = [COLUMNS.map((c) => c.head), ...rows.map((r) => COLUMNS.map((c) => c.cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const lines = cells.map((line) =>
    line
      .map((v, i) => (COLUMNS[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** formatJson: an array of objects with the Row keys, numbers as numbers, null for unlimited. */
export function formatJson(rows: readonly Row[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

const CSV_KEYS: (keyof Row)[] = ['user', 'maildir', 'bytes', 'storageLimit', 'storagePercent', 'messages', 'messageLimit', 'messagePercent', 'status'];

/** csvField quotes per RFC 4180: fields with `,` `"` CR or LF go in quotes, quotes doubled. */
export function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** formatCsv: RFC 4180 (CRLF line ends) with a header line of the JSON keys. */
export function formatCsv(rows: readonly Row[]): string {
  const lines = [CSV_KEYS.join(','), ...rows.map((r) => CSV_KEYS.map((k) => csvField(r[k])).join(','))];
  return lines.map((l) => `${l}\r\n`).join('');
}

/**
 * formatReport renders rows. No rows (no users, or nobody at or over --over) is
 * no output at all: cron mails any output, and silence means "all fine". Only
 * json and csv asked for without --over keep `[]` / their header line, so a
 * program reading them still gets something it can parse.
 */
export function formatReport(rows: readonly Row[], format: Format, over: number | undefined): string {
  if (rows.length === 0 && (over !== undefined || format === 'table')) return '';
  if (format === 'json') return formatJson(rows);
  if (format === 'csv') return formatCsv(rows);
  return formatTable(rows);
}

/** A progress bar is worth showing only on a terminal and for a long queue (> 200 Maildirs, about 1 s). */
export const PROGRESS_MIN_QUEUE = 200;
/** Redraw at most every this many Maildirs: no timers needed. */
export const PROGRESS_EVERY = 100;

export function showProgress(isTTY: boolean, queued: number): boolean {
  return isTTY && queued > PROGRESS_MIN_QUEUE;
}

/** progressUpdate: the `\r` line to draw after `done` of `total`, or '' when no redraw is due. */
export function progressUpdate(done: number, total: number, width = 30): string {
  if (done % PROGRESS_EVERY !== 0 && done !== total) return '';
  const filled = total > 0 ? Math.floor((done / total) * width) : width;
  return `\rmda quota: [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** Clears the progress line (carriage return, erase to end of line). */
export const PROGRESS_CLEAR = '\r\x1b[K';
