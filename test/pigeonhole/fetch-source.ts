/**
 * Gets Pigeonhole's own language tests (tests/**\/*.svtest, and the examples/ they compile) at test time: the
 * `dovecot_*.orig-pigeonhole.tar.gz` of Debian's dovecot source package, found
 * with `apt-get source --print-uris dovecot` (the system's apt sources, else a
 * private deb-src list mirroring the system's Debian deb lines, kept in the
 * cache dir so no root and no change to /etc/apt is needed), downloaded, its
 * SHA-256 checked against the signed index, and its tests/ tree extracted into
 * a cache directory OUTSIDE the repository (MDA_PIGEONHOLE_CACHE, default
 * ~/.cache/mda-pigeonhole), reused on later runs. Must not: commit, write in
 * the repository, or fail the suite: it answers { skip: why } instead.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type SourceResult = { testsDir: string; version: string } | { skip: string };

const TARBALL = /^dovecot_.*\.orig-pigeonhole\.tar\.gz$/;

export function cacheDir(): string {
  return process.env.MDA_PIGEONHOLE_CACHE ?? join(homedir(), '.cache', 'mda-pigeonhole');
}

/** The extracted tests/ dir, fetching and extracting first when the cache lacks it. */
export async function pigeonholeTests(): Promise<SourceResult> {
  const dir = cacheDir();
  try {
    mkdirSync(dir, { recursive: true });
    const done = extracted(dir);
    if (done) return done;
    let tarball = readdirSync(dir).find((f) => TARBALL.test(f));
    if (!tarball) {
      const uri = findUri(dir);
      if ('skip' in uri) return uri;
      await download(uri.url, uri.sha256, join(dir, uri.name));
      tarball = uri.name;
    }
    const tmp = join(dir, 'extract.tmp');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    execFileSync('tar', ['-xzf', join(dir, tarball), '-C', tmp, '--wildcards', '*/tests/*', '*/examples/*'], { stdio: 'pipe' });
    const top = readdirSync(tmp)[0];
    if (!top || !existsSync(join(tmp, top, 'tests'))) return { skip: `${tarball} has no tests/ directory` };
    rmSync(join(dir, 'src'), { recursive: true, force: true });
    renameSync(join(tmp, top), join(dir, 'src'));
    writeFileSync(join(dir, 'src', '.version'), `${top}\n`);
    rmSync(tmp, { recursive: true, force: true });
    return extracted(dir) ?? { skip: 'extraction failed' };
  } catch (err) {
    return { skip: `could not fetch the Pigeonhole sources: ${(err as Error).message.split('\n')[0]}` };
  }
}

function extracted(dir: string): SourceResult | null {
  const version = join(dir, 'src', '.version');
  if (!existsSync(version)) return null;
  return { testsDir: join(dir, 'src', 'tests'), version: readFileSync(version, 'utf8').trim() };
}

type Uri = { url: string; name: string; sha256: string };

/** `apt-get source --print-uris`: first with the system's sources, then with a private deb-src list. */
function findUri(dir: string): Uri | { skip: string } {
  const fromSystem = printUris([]);
  if (fromSystem) return fromSystem;
  const apt = join(dir, 'apt');
  const parts = join(apt, 'sources.list.d');
  mkdirSync(join(apt, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(apt, 'cache', 'archives', 'partial'), { recursive: true });
  mkdirSync(parts, { recursive: true });
  const stanzas = debSrcStanzas();
  if (stanzas.length === 0) return { skip: 'no Debian deb entry in /etc/apt to mirror as deb-src' };
  writeFileSync(join(parts, 'debian-src.sources'), stanzas.join('\n'));
  writeFileSync(join(apt, 'empty.list'), '');
  const opts = [
    '-o', `Dir::Etc::SourceList=${join(apt, 'empty.list')}`, '-o', `Dir::Etc::SourceParts=${parts}`,
    '-o', `Dir::State::Lists=${join(apt, 'lists')}`, '-o', `Dir::Cache=${join(apt, 'cache')}`,
    '-o', 'Debug::NoLocking=1',
  ];
  try {
    execFileSync('apt-get', ['-q', ...opts, 'update'], { stdio: 'pipe', timeout: 120_000 });
  } catch (err) {
    return { skip: `apt-get update (deb-src) failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n').pop()}` };
  }
  return printUris(opts) ?? { skip: 'apt-get source --print-uris dovecot lists no orig-pigeonhole tarball' };
}

function printUris(opts: string[]): Uri | null {
  let out: string;
  try {
    out = execFileSync('apt-get', [...opts, 'source', '--print-uris', 'dovecot'], { stdio: 'pipe', timeout: 60_000 }).toString();
  } catch {
    return null;
  }
  for (const line of out.split('\n')) {
    const m = /^'([^']+)' (\S+) \d+ SHA256:([0-9a-f]{64})/.exec(line);
    if (m && TARBALL.test(m[2]!)) return { url: m[1]!, name: m[2]!, sha256: m[3]! };
  }
  return null;
}

/** Every enabled Debian `deb` entry of /etc/apt, as a deb822 `deb-src` stanza. */
function debSrcStanzas(): string[] {
  const out: string[] = [];
  const files = ['/etc/apt/sources.list'];
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d)) for (const f of readdirSync(d)) if (/\.(list|sources)$/.test(f)) files.push(join(d, f));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    if (f.endsWith('.sources')) {
      for (const block of text.split(/\n\s*\n/)) {
        const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(block)?.[1]?.trim();
        const uris = field('URIs');
        if (!field('Types')?.split(/\s+/).includes('deb') || !uris?.includes('debian') || field('Enabled') === 'no') continue;
        const signed = field('Signed-By');
        out.push(`Types: deb-src\nURIs: ${uris}\nSuites: ${field('Suites')}\nComponents: ${field('Components')}\n${signed ? `Signed-By: ${signed}\n` : ''}`);
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line.trim());
        if (m && m[2]!.includes('debian')) out.push(`Types: deb-src\nURIs: ${m[2]}\nSuites: ${m[3]}\nComponents: ${m[4]}\n`);
      }
    }
  }
  return out;
}

async function download(url: string, sha256: string, dest: string): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const got = createHash('sha256').update(body).digest('hex');
  if (got !== sha256) throw new Error(`${url}: SHA-256 ${got}, the signed index says ${sha256}`);
  writeFileSync(`${dest}.part`, body);
  renameSync(`${dest}.part`, dest);
}
