/**
 * The names of Postfix/sendmail alias files (aliases(5)): `mda policy` must not judge a
 * local part that Postfix delivers through an alias, since smtpd asks before alias
 * expansion. Only the left-hand sides matter: targets, `:include:` files and commands
 * are Postfix's. parseAliasNames is pure; AliasFiles re-reads a file only when its
 * mtime, ctime, size or inode changed (checked at most once per CHECK_MS), like
 * Postfix's own "database has changed" check. Must not: expand aliases or decide.
 */
import type { Stats } from 'node:fs';
import { monotonicMs } from '../deadline/deadline.js';
import { stat } from '../io/fs-async.js';
import { readUserFile } from '../io/user-file.js';
import { foldLocal } from '../recipients/address.js';

/**
 * parseAliasNames follows aliases(5): a logical line starts with non-whitespace and
 * continues on lines that start with whitespace; blank lines and lines whose first
 * non-whitespace character is `#` are ignored; `name: value, ...`, the name in double
 * quotes when it holds whitespace, `#`, `:` or `@`. Names are folded to lowercase, as
 * postalias(1) stores them, and unquoted, as local(8) looks them up.
 */
export function parseAliasNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || /^\s/.test(line) || line.startsWith('#')) continue; // blank, continuation, comment
    const name = nameOf(line);
    if (name !== undefined && name !== '') names.add(foldLocal(name));
  }
  return names;
}

/** nameOf reads the left-hand side of `name: value`; undefined when the line has no `:` after a name. */
function nameOf(line: string): string | undefined {
  if (line.startsWith('"')) {
    let name = '';
    for (let i = 1; i < line.length; i++) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length) name += line[++i];
      else if (c === '"') return /^\s*:/.test(line.slice(i + 1)) ? name : undefined;
      else name += c;
    }
    return undefined; // no closing quote
  }
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  return line.slice(0, colon).trimEnd();
}

/** What the files say now; `trouble`: a file could not be read, so no name can be ruled out. */
export interface AliasNames {
  names: ReadonlySet<string>;
  trouble?: string;
}

/** Re-check the files' stat at most this often: a flood must not become a stat() flood. */
const CHECK_MS = 1_000;
/** /etc/aliases of a large site is a few hundred KiB; beyond this it is no alias file. */
const MAX_ALIAS_FILE = 16 * 1024 * 1024;

interface Loaded {
  key: string;
  names: Set<string>;
}

/** AliasFiles: one per server config (rebuilt on reload); all its state is per instance. */
export class AliasFiles {
  private readonly loaded = new Map<string, Loaded>();
  private current: AliasNames = { names: new Set() };
  private checkedAt = -Infinity;
  private checking: Promise<AliasNames> | undefined;

  constructor(private readonly paths: readonly string[]) {}

  /** names returns the union of every file's names, re-reading files that changed. Never throws. */
  names(): Promise<AliasNames> {
    if (monotonicMs() - this.checkedAt < CHECK_MS) return Promise.resolve(this.current);
    // One check at a time: concurrent requests share it.
    this.checking ??= this.check().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async check(): Promise<AliasNames> {
    const all = new Set<string>();
    const troubles: string[] = [];
    for (const path of this.paths) {
      try {
        for (const n of await this.namesOf(path)) all.add(n);
      } catch (err) {
        troubles.push(`${path}: ${(err as Error).message}`);
      }
    }
    this.current = troubles.length ? { names: all, trouble: troubles.join('; ') } : { names: all };
    this.checkedAt = monotonicMs();
    return this.current;
  }

  private async namesOf(path: string): Promise<Set<string>> {
    let st: Stats;
    try {
      st = await stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return (this.loaded.delete(path), new Set());
      throw err;
    }
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const had = this.loaded.get(path);
    if (had?.key === key) return had.names;
    const text = await readUserFile(path, { max: MAX_ALIAS_FILE });
    const names = text === undefined ? new Set<string>() : parseAliasNames(text.toString('utf8'));
    this.loaded.set(path, { key, names });
    return names;
  }
}
