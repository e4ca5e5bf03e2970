/**
 * The compiled config cache: `mda config check` writes it, deliver trusts it
 * only for the exact file it was made from (device, inode, size, mtime), the
 * same build and the same owner, and ignores it otherwise.
 */
import { chmodSync, chownSync, existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compiledPath, readCompiled } from '../../src/config/compiled-cache.js';
import { loadConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let cfg: string;
beforeEach(() => {
  t = tempDir();
  cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, '[delivery]\nmax_message_size = "1M"\n[log]\ntarget = "none"\n');
});
afterEach(() => t.cleanup());

const compile = () => {
  let why: string | undefined = 'not called';
  loadConfig(cfg, { compile: (w) => (why = w) });
  return why;
};
/** Poison the cache with a different value, so a test can tell whether it was used. */
const poison = () => {
  const p = compiledPath(cfg);
  const entry = JSON.parse(readFileSync(p, 'utf8'));
  entry.config.delivery.maxMessageSize = 4242;
  writeFileSync(p, JSON.stringify(entry), { mode: 0o644 });
};

describe('compiled config', () => {
  it('config check writes it next to the file; deliver uses it while the file is unchanged', () => {
    expect(compile()).toBeUndefined();
    expect(existsSync(join(t.dir, '.mda.toml.compiled.json'))).toBe(true);
    expect(statSync(compiledPath(cfg)).mode & 0o777).toBe(0o644);
    poison();
    expect(loadConfig(cfg).delivery.maxMessageSize).toBe(4242); // came from the cache
  });

  it('an edited file (new size or mtime) makes it stale: the TOML is parsed again', () => {
    compile();
    poison();
    writeFileSync(cfg, '[delivery]\nmax_message_size = "2M"\n[log]\ntarget = "none"\n');
    expect(loadConfig(cfg).delivery.maxMessageSize).toBe(2 * 1024 * 1024);
    compile();
    poison();
    const st = statSync(cfg);
    utimesSync(cfg, st.atime, new Date(st.mtimeMs + 5000)); // same size, new mtime
    expect(loadConfig(cfg).delivery.maxMessageSize).toBe(2 * 1024 * 1024);
  });

  it('is ignored when writable by others, corrupt, or from another build', () => {
    compile();
    poison();
    chmodSync(compiledPath(cfg), 0o666);
    expect(loadConfig(cfg).delivery.maxMessageSize).toBe(1024 * 1024);
    writeFileSync(compiledPath(cfg), '{not json', { mode: 0o644 });
    chmodSync(compiledPath(cfg), 0o644);
    expect(loadConfig(cfg).delivery.maxMessageSize).toBe(1024 * 1024);
    compile();
    const entry = JSON.parse(readFileSync(compiledPath(cfg), 'utf8'));
    writeFileSync(compiledPath(cfg), JSON.stringify({ ...entry, build: 'another-build' }));
    expect(readCompiled(cfg, statSync(cfg))).toBeUndefined();
  });

  it.skipIf(process.getuid?.() !== 0)('is ignored when its owner differs from the config file’s', () => {
    compile();
    poison();
    chownSync(compiledPath(cfg), 65534, 65534);
    expect(loadConfig(cfg).delivery.maxMessageSize).toBe(1024 * 1024);
  });

  it('a config that fails validation writes nothing', () => {
    writeFileSync(cfg, '[delivery]\nbogus = 1\n');
    expect(() => loadConfig(cfg, { compile: () => undefined })).toThrow();
    expect(existsSync(compiledPath(cfg))).toBe(false);
  });
});
