/**
 * The compiled form of a user's script, cached between deliveries: the
 * validated AST as JSON with the key it was made under (the script file's
 * identity, mda's build, the size limit). A cache whose key differs, or that
 * does not parse into the expected shape, is a miss, never an error.
 * Pure: pipeline/sieve-load.ts reads and writes the file.
 */
import type { Script } from './ast.js';

/** Bump when the AST shape or the validator's output changes in a way the build key would not show. */
export const CACHE_FORMAT = 1;

export interface CacheKey {
  /** The script file: size, mtime (ms), inode, ctime (ms). */
  script: string;
  /** The running mda build (its code file's size and mtime). */
  build: string;
  maxScriptSize: number;
}

interface CacheFile {
  format: number;
  key: CacheKey;
  source: string;
  capabilities: string[];
  commands: Script['commands'];
}

export function encodeCache(script: Script, key: CacheKey): string {
  const file: CacheFile = { format: CACHE_FORMAT, key, source: script.source, capabilities: [...script.capabilities], commands: script.commands };
  return JSON.stringify(file);
}

/** decodeCache: the Script when the cache was made under exactly this key, else undefined. */
export function decodeCache(text: string, key: CacheKey): Script | undefined {
  let f: Partial<CacheFile>;
  try {
    f = JSON.parse(text) as Partial<CacheFile>;
  } catch {
    return undefined;
  }
  if (typeof f !== 'object' || f === null || f.format !== CACHE_FORMAT || !sameKey(f.key, key)) return undefined;
  if (typeof f.source !== 'string' || !Array.isArray(f.capabilities) || !Array.isArray(f.commands)) return undefined;
  if (!f.capabilities.every((c) => typeof c === 'string')) return undefined;
  return { source: f.source, capabilities: new Set(f.capabilities), commands: f.commands };
}

function sameKey(a: CacheKey | undefined, b: CacheKey): boolean {
  return a !== undefined && a !== null && a.script === b.script && a.build === b.build && a.maxScriptSize === b.maxScriptSize;
}
