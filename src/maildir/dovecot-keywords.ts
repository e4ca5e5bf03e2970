/**
 * IMAP keywords on Maildir file names, Dovecot's way (pure): the `dovecot-keywords`
 * file of a folder maps the letters `a`–`z` after `:2,` to keyword names, one
 * line `N name` per letter, 0 = `a` (Dovecot maildir-keywords.c). Parsing,
 * formatting, assigning letters to keywords and checking that a keyword is
 * one Dovecot accepts live here, as tables a test can check.
 * Must not: read or write files, or take locks (dovecot-keywords-store.ts does).
 */

/** The file's name, in the folder's directory (INBOX: the Maildir itself). */
export const KEYWORDS_FILE = 'dovecot-keywords';
/** `a`..`z`: Dovecot's MAILDIR_MAX_KEYWORDS. */
export const MAX_KEYWORDS = 26;
/** Dovecot's default mail_max_keyword_length: a longer new keyword is refused. */
export const MAX_KEYWORD_LENGTH = 50;

/** A folder's keyword table: slot i is letter `a`+i (undefined = free); names by lower case → slot. */
export interface KeywordTable {
  slots: (string | undefined)[];
  byName: Map<string, number>;
}

export const letterOf = (slot: number): string => String.fromCharCode(0x61 + slot);

/**
 * parseKeywords reads the file as Dovecot's maildir_keywords_sync does: complete
 * lines only (a last line without LF is not read), a CR before the LF dropped,
 * split at the first space; a line without one, an index that is not decimal
 * digits or not below 26, an empty name, or a name already seen (compared
 * case-insensitively, as Dovecot's strcase hash does) is skipped. A later line
 * for a taken index overwrites the slot, and the earlier name keeps pointing
 * at it, exactly as in Dovecot.
 */
export function parseKeywords(text: string): KeywordTable {
  const table: KeywordTable = { slots: [], byName: new Map() };
  const lines = text.split('\n');
  lines.pop(); // the part after the last LF is not a complete line
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const idx = line.slice(0, sp);
    const name = line.slice(sp + 1);
    if (!/^[0-9]+$/.test(idx) || Number(idx) >= MAX_KEYWORDS || name === '' || table.byName.has(name.toLowerCase())) continue;
    const slot = Number(idx);
    table.byName.set(name.toLowerCase(), slot);
    while (table.slots.length < slot) table.slots.push(undefined);
    table.slots[slot] = name;
  }
  return table;
}

/** formatKeywords writes the table as Dovecot's maildir_keywords_write_fd does: `N name\n` per used slot. */
export function formatKeywords(table: KeywordTable): string {
  return table.slots.map((name, i) => (name === undefined ? '' : `${i} ${name}\n`)).join('');
}

/**
 * isValidKeyword: Dovecot's mailbox_keyword_is_valid for a new keyword: not
 * empty, IMAP atom characters only (RFC 3501 §9 flag-keyword = atom: no
 * CTL, SP, 8-bit, `(){%*"\]`), at most 50 characters. `\Recent` and other
 * backslash names are no keywords (RFC 3501 §2.3.2).
 */
export function isValidKeyword(name: string): boolean {
  return name.length > 0 && name.length <= MAX_KEYWORD_LENGTH && /^[\x21-\x7e]+$/.test(name) && !/[(){%*"\\\]]/.test(name);
}

export interface Assigned {
  /** The keywords' letters, sorted. */
  letters: string;
  /** Names given a new slot (the file must be rewritten, under Dovecot's lock). */
  added: string[];
  /** Names with no letter: not valid keywords, or no free slot left (Dovecot drops those too). */
  dropped: string[];
}

/**
 * assignLetters finds each keyword's letter, case-insensitively (IMAP keywords
 * are one keyword whatever their case, and Dovecot looks them up that way),
 * giving a new one the first free slot, as maildir_keywords_lookup_or_create
 * does, and stores it as given. With `readOnly` nothing is added: unknown
 * keywords are dropped. Mutates `table` when it adds.
 */
export function assignLetters(table: KeywordTable, keywords: readonly string[], readOnly = false): Assigned {
  const letters = new Set<string>();
  const added: string[] = [];
  const dropped: string[] = [];
  for (const name of keywords) {
    let slot = table.byName.get(name.toLowerCase());
    if (slot === undefined) {
      if (readOnly || !isValidKeyword(name)) {
        dropped.push(name);
        continue;
      }
      const free = table.slots.findIndex((s) => s === undefined);
      slot = free >= 0 ? free : table.slots.length;
      if (slot >= MAX_KEYWORDS) {
        dropped.push(name);
        continue;
      }
      table.slots[slot] = name;
      table.byName.set(name.toLowerCase(), slot);
      added.push(name);
    }
    letters.add(letterOf(slot));
  }
  return { letters: [...letters].sort().join(''), added, dropped };
}

/** withKeywordLetters: the system-flag letters and the keyword letters in ASCII order, as maildir(5) and Dovecot sort them. */
export function withKeywordLetters(system: string, keywords: string): string {
  return [...new Set([...system, ...keywords])].sort().join('');
}
