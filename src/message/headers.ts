/**
 * Parses a header block (RFC 5322 §2.2) into name/value pairs: unfolds
 * continuation lines, keeps order and duplicates. Only what delivery needs;
 * no MIME decoding (a full MIME parse per delivery would cost startup time
 * for nothing). Pure: no I/O.
 */

export interface HeaderField {
  /** Lower-cased field name. */
  name: string;
  /** Unfolded value, leading/trailing white space removed. */
  value: string;
}

/** parseHeaders splits a header block; malformed lines are skipped, not fatal. */
export function parseHeaders(block: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  const lines = block.toString('utf8').split(/\r?\n/);
  let current: { name: string; parts: string[] } | undefined;
  const flush = () => {
    if (current) fields.push({ name: current.name, value: current.parts.join(' ').trim() });
    current = undefined;
  };
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      current?.parts.push(line.trim());
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    // field-name = 1*ftext (printable US-ASCII except colon); WSP before ':' is obsolete syntax
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trimEnd();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    current = { name: name.toLowerCase(), parts: [line.slice(colon + 1)] };
  }
  flush();
  return fields;
}

/** The first value of a field, or undefined. */
export function firstValue(fields: HeaderField[], name: string): string | undefined {
  const n = name.toLowerCase();
  return fields.find((f) => f.name === n)?.value;
}

/**
 * The value between angle brackets (`<a@b>` → `a@b`, `<>` → ''), else the trimmed text.
 * indexOf, not /<([^>]*)>/: that regex backtracks quadratically on a sender's
 * `<<<<…` and blocked the event loop, deadline included, for minutes.
 */
export function angleAddress(value: string): string {
  const open = value.indexOf('<');
  const close = open < 0 ? -1 : value.indexOf('>', open + 1);
  return (close < 0 ? value : value.slice(open + 1, close)).trim();
}
