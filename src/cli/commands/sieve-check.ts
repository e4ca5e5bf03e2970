/**
 * `mda sieve check FILE...`: compiles Sieve scripts the way delivery will and lists every error as
 * file:line:column: message, so an admin or user can fix a script before mail meets it. For
 * people, not Postfix: exits 0 (all OK), 1 (compile errors) or 2 (a file unreadable).
 * Must not: deliver, evaluate scripts or log mail.
 */
import { readFile } from 'node:fs/promises';
import { formatSieveError } from '../../sieve/ast.js';
import { compileSieve } from '../../sieve/compile.js';

export const describe = 'Compile Sieve scripts and list every error with its line and column';

export interface SieveCheckIo {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown };
}

const processIo = (): SieveCheckIo => ({ out: process.stdout, err: process.stderr });

/** sieveCheck returns 0 when every file compiles, 1 when one has errors, 2 when one cannot be read. */
export async function sieveCheck(args: { files: string[] }, io: SieveCheckIo = processIo()): Promise<number> {
  let status = 0;
  for (const file of args.files) {
    let text: string;
    try {
      // RFC 5228 §8.1: scripts are UTF-8
      text = await readFile(file, 'utf8');
    } catch (err) {
      io.err.write(`${file}: cannot read: ${(err as Error).message}\n`);
      status = 2;
      continue;
    }
    const result = compileSieve(text, file);
    if ('errors' in result) {
      for (const e of result.errors) io.err.write(`${formatSieveError(e)}\n`);
      status = Math.max(status, 1);
    } else {
      io.out.write(`OK: ${file}\n`);
    }
  }
  return status;
}
