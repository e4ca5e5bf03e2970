/**
 * compileSieve: script text → validated Script, or every compile error (parser.ts, then
 * validate.ts). The one entry point for `mda sieve check` and for delivery. Pure: the caller
 * reads the file.
 */
import { parseSieve, type ParseLimits } from './parser.js';
import { validateScript, type ValidateOptions, type ValidateResult } from './validate.js';

export interface CompileOptions extends Partial<ParseLimits>, ValidateOptions {}

export function compileSieve(text: string, source: string, opts: CompileOptions = {}): ValidateResult {
  const parsed = parseSieve(text, source, opts);
  if ('errors' in parsed) return parsed;
  return validateScript(parsed.script, { compileRegex: opts.compileRegex, maxErrors: opts.maxErrors, extraSpecs: opts.extraSpecs });
}
