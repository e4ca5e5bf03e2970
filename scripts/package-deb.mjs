// Builds the Debian package mda_<version>_<arch>.deb from the built tree
// (`npm run package` builds first) with dpkg-deb, offline, and prints its path
// as the last line. `--out DIR` puts it elsewhere than the repository root.
// Layout: /usr/lib/mda (the runtime tree of scripts/runtime-tree.mjs),
// /usr/bin/mda -> ../lib/mda/bin/mda, man pages, /etc/mda/mda.toml (a conffile
// of comments only, so the embedded defaults apply), systemd units (not
// enabled), tmpfiles.d for [scanning] state_dir, logrotate, copyright.
// Must not: build, download, enable or start services, or touch the system.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { copyRuntimeTree } from './runtime-tree.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : REPO;
// yargs 18 needs ^20.19 || ^22.12 || >=23: 20.19 is the lowest Node that runs every command.
const MIN_NODE = '20.19';
const STATE_DIR = '/var/tmp/mda'; // [scanning] state_dir's default (src/config/schema.ts)
const UNITS = ['mda-lmtp.service', 'mda-policy.service'];

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mda-deb-'));
const put = (rel, text, mode = 0o644) => {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode); // whatever the umask
};

try {
  // the runtime tree, owned by root, readable by every recipient Postfix runs mda as
  const lib = path.join(root, 'usr/lib/mda');
  const modules = copyRuntimeTree(REPO, lib);
  execFileSync('chmod', ['-R', 'u=rwX,go=rX', lib]);
  fs.chmodSync(path.join(lib, 'bin/mda'), 0o755);
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.symlinkSync('../lib/mda/bin/mda', path.join(root, 'usr/bin/mda')); // node runs the real path: __dirname is /usr/lib/mda/bin

  // A native addon (unix-dgram, for syslog: the default log target) ties the
  // package to this machine's architecture and Node's module ABI.
  const native = execFileSync('find', [lib, '-name', '*.node', '-type', 'f'], { encoding: 'utf8' }).trim() !== '';
  const arch = native ? execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim() : 'all';
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  const depends = native ? `nodejs (>= ${MIN_NODE}), nodejs (<< ${nodeMajor + 1})` : `nodejs (>= ${MIN_NODE})`;

  for (const page of fs.readdirSync(path.join(REPO, 'man'))) {
    const section = page.slice(page.lastIndexOf('.') + 1);
    put(`usr/share/man/man${section}/${page}.gz`, zlib.gzipSync(fs.readFileSync(path.join(REPO, 'man', page)), { level: 9 }));
  }

  // every line of the documented defaults, commented out: the file exists, the defaults apply
  const defaults = fs.readFileSync(path.join(REPO, 'examples/mda.toml'), 'utf8');
  put('etc/mda/mda.toml', [
    '# /etc/mda/mda.toml: mda reads this file when neither --config nor $MDA_CONFIG names one.',
    '# Everything below is commented out, so the embedded defaults apply; uncomment to change.',
    '# Check with: mda config check    Manual: man 5 mda.toml',
    '#',
    ...defaults.trimEnd().split('\n').map((l) => (l === '' || l.startsWith('#') ? l : `# ${l}`)),
    '',
  ].join('\n'));

  for (const unit of UNITS) {
    const text = fs.readFileSync(path.join(REPO, 'examples', unit), 'utf8');
    put(`usr/lib/systemd/system/${unit}`, text.replace(/\/usr\/local\/(?:lib\/mda\/)?bin\/mda\b/g, '/usr/bin/mda'));
  }
  // shared breaker state, sticky like /tmp (src/scanners/breaker-file-store.ts); "-": never aged
  put('usr/lib/tmpfiles.d/mda.conf', `# mda: [scanning] state_dir (circuit breaker state of all deliveries)\nd ${STATE_DIR} 1777 root root -\n`);
  // copytruncate: `mda lmtp` / `mda policy` keep the file open (O_APPEND) and do not reopen it
  put('etc/logrotate.d/mda', [
    '# mda with [log] target = "file:/var/log/mda.log" (the default is syslog)',
    '/var/log/mda.log {',
    '\tweekly', '\trotate 4', '\tcompress', '\tdelaycompress', '\tmissingok', '\tnotifempty', '\tcopytruncate',
    '}', '',
  ].join('\n'));
  put('usr/share/doc/mda/copyright', copyright(lib, modules));

  const dpkgDir = path.join(root, 'DEBIAN');
  put('DEBIAN/conffiles', '/etc/mda/mda.toml\n/etc/logrotate.d/mda\n');
  put('DEBIAN/postinst', [
    '#!/bin/sh', 'set -e',
    'if [ "$1" = configure ]; then',
    '  # the units are installed, not enabled: the admin chooses per-message, LMTP and/or policy',
    '  if [ -d /run/systemd/system ]; then systemctl --system daemon-reload >/dev/null || true; fi',
    '  if command -v systemd-tmpfiles >/dev/null; then systemd-tmpfiles --create mda.conf || true; fi',
    'fi', '',
  ].join('\n'), 0o755);
  put('DEBIAN/prerm', [
    '#!/bin/sh', 'set -e',
    `if [ "$1" = remove ] && [ -d /run/systemd/system ]; then systemctl stop ${UNITS.join(' ')} >/dev/null 2>&1 || true; fi`, '',
  ].join('\n'), 0o755);
  put('DEBIAN/postrm', [
    '#!/bin/sh', 'set -e',
    'if [ "$1" = purge ]; then',
    // dpkg purges the conffile itself; what mda wrote beside it is the compiled caches
    // (.NAME.compiled.json, from `mda config check`). Anything else there is the admin's (global
    // Sieve scripts, a second config): kept, and /etc/mda with it, as dpkg keeps unknown files.
    '  rm -f /etc/mda/.*.compiled.json',
    '  rmdir /etc/mda 2>/dev/null || true',
    `  rm -rf ${STATE_DIR}`,
    `  for u in ${UNITS.join(' ')}; do rm -f /etc/systemd/system/*.wants/$u; done`,
    'fi',
    'if [ -d /run/systemd/system ]; then systemctl --system daemon-reload >/dev/null || true; fi', '',
  ].join('\n'), 0o755);
  const kib = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', root], { encoding: 'utf8' }).split('\t')[0]);
  put('DEBIAN/control', [
    'Package: mda',
    `Version: ${pkg.version}`,
    `Architecture: ${arch}`,
    `Maintainer: ${process.env.DEBFULLNAME || 'mda maintainers'} <${process.env.DEBEMAIL || 'mda@localhost.invalid'}>`,
    `Installed-Size: ${kib}`,
    `Depends: ${depends}`,
    'Suggests: postfix', // not Recommends: apt would then replace another MTA, or download one
    'Section: mail',
    'Priority: optional',
    'Description: mail delivery agent for Postfix: Maildir, Sieve, quota, LMTP',
    ...`${pkg.description}.`.match(/.{1,72}(\s|$)/g).map((l) => ` ${l.trim()}`),
    ' .',
    ' mda stores mail in Maildir for Postfix, as its mailbox_command (mda deliver),',
    ' an LMTP server (mda lmtp) or a policy service (mda policy), with Sieve',
    ' filtering, Maildir++ quota and spamd/clamd scanning. The systemd units are',
    ' installed but not enabled.',
    '',
  ].join('\n'));
  fs.chmodSync(root, 0o755);
  fs.chmodSync(dpkgDir, 0o755);

  fs.mkdirSync(OUT, { recursive: true });
  const deb = path.join(OUT, `mda_${pkg.version}_${arch}.deb`);
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(deb);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}

/** copyright: machine-readable (DEP-5), mda's MIT licence and each bundled package's own. */
function copyright(lib, modules) {
  const body = (text) => text.trim().split('\n').map((l) => (l.trim() === '' ? ' .' : ` ${l}`)).join('\n');
  const MIT = `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`;
  const parts = [
    `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: mda\n`,
    `Files: *\nCopyright: mda contributors\nLicense: ${pkg.license}\n${body(MIT)}\n`,
  ];
  for (const name of modules) {
    const dir = path.join(lib, 'node_modules', name);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file ? fs.readFileSync(path.join(dir, file), 'utf8') : `${meta.license} (no licence file in the package)`;
    const holders = text.split('\n').filter((l) => /^\s*copyright\s+(\(c\)|©|\d{4})/i.test(l)).map((l) => l.trim().replace(/^copyright\s*(\(c\)|©)?\s*/i, ''));
    parts.push(`Files: usr/lib/mda/node_modules/${name}/*\nCopyright: ${holders.join('\n ') || `the ${name} authors`}\nLicense: ${meta.license}\n${body(text)}\n`);
  }
  return parts.join('\n');
}
