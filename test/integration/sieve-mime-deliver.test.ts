/**
 * RFC 5703 (mime, foreverypart, break, extracttext) through the built `mda deliver` on a real
 * Maildir: attachments filed by type, text extracted from a quoted-printable part, a part past the
 * body limit unseen (the message still stored whole), a runtime error inside a loop keeping only
 * the implicit keep, and `mda sieve check` knowing the extensions. Run `npm run build` first.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDir, runMda, tempDir } from '../helpers/run-mda.js';

let t: ReturnType<typeof tempDir>;
let home: string;
let md: string;
beforeEach(() => {
  t = tempDir('mda-sieve-mime-');
  home = join(t.dir, 'home');
  md = join(home, 'Maildir');
  mkdirSync(join(home, '.mda'), { recursive: true });
});
afterEach(() => t.cleanup());

function config(): string {
  const cfg = join(t.dir, 'mda.toml');
  writeFileSync(cfg, `[log]\ntarget = "none"\n[sieve]\nscript = "${join(home, '.mda', 'filter.sieve')}"\nstate_dir = "${join(home, '.mda')}"\n`);
  return cfg;
}

const script = (text: string) => writeFileSync(join(home, '.mda', 'filter.sieve'), text);

/** A multipart/mixed message: a text part (quoted-printable) and optionally a PDF attachment. */
function message(o: { text?: string; pdf?: boolean } = {}): string {
  return [
    'From alice@example.org  Sat Nov 21 23:21:04 2026',
    'Return-Path: <alice@example.org>',
    'From: Alice <alice@example.org>',
    'To: bob@example.test',
    'Subject: Report',
    `Message-ID: <${Math.random()}@example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    o.text ?? 'Please find the invoice attached. Caf=E9.',
    ...(o.pdf === false ? [] : ['--b1', 'Content-Type: application/pdf; name="invoice.pdf"', 'Content-Disposition: attachment; filename="invoice.pdf"', 'Content-Transfer-Encoding: base64', '', 'JVBERi0xLjQK']),
    '--b1--',
    '',
  ].join('\n');
}

async function deliver(input: string) {
  return runMda(['deliver', '--config', config(), '--maildir', md], { input, env: { PATH: process.env.PATH, HOME: home, USER: process.env.USER ?? 'root' } });
}

const files = (folder: string) => listDir(join(md, folder, 'new'));
const PDF_RULE = 'require ["foreverypart", "mime", "fileinto"];\nforeverypart { if header :mime :subtype "Content-Type" "pdf" { fileinto "attachments"; break; } }\n';

describe('RFC 5703 through mda deliver', () => {
  it('§3, §4.2: mail with a PDF attachment is filed into "attachments"; only there', async () => {
    script(PDF_RULE);
    const r = await deliver(message());
    expect([r.code, r.output]).toEqual([0, '']);
    expect(files('.attachments')).toHaveLength(1);
    expect(existsSync(join(md, 'new')) ? files('') : []).toHaveLength(0);
  });

  it('§3: mail without one stays in INBOX', async () => {
    script(PDF_RULE);
    expect((await deliver(message({ pdf: false }))).code).toBe(0);
    expect(files('')).toHaveLength(1);
    expect(existsSync(join(md, '.attachments'))).toBe(false);
  });

  it('§4.1: header :mime :anychild outside a loop finds the attachment too', async () => {
    script('require ["mime", "fileinto"];\nif header :mime :anychild :param "filename" :matches "Content-Disposition" "*.pdf" { fileinto "pdfs"; }\n');
    expect((await deliver(message())).code).toBe(0);
    expect(files('.pdfs')).toHaveLength(1);
  });

  it('§7: extracttext gives the decoded text of the current part', async () => {
    script('require ["foreverypart", "mime", "extracttext", "variables", "fileinto"];\nforeverypart { if header :mime :type "Content-Type" "text" { extracttext :first 40 "t"; if string :contains "${t}" "invoice attached. Café" { fileinto "invoices"; } } }\n');
    expect((await deliver(message())).code).toBe(0);
    expect(files('.invoices')).toHaveLength(1);
  });

  it('a part past the body limit (1 MiB) is not seen; the message is stored whole', async () => {
    script(PDF_RULE);
    const big = Array.from({ length: 20_000 }, () => 'x'.repeat(70)).join('\n'); // ≈ 1.4 MB before the PDF part
    const input = message({ text: big });
    expect((await deliver(input)).code).toBe(0);
    const inbox = files('');
    expect(inbox).toHaveLength(1);
    expect(readFileSync(join(md, 'new', inbox[0]!), 'utf8')).toContain('JVBERi0xLjQK');
  });

  it('a runtime error inside a loop cancels every action: implicit keep only (RFC 5228 §2.10.6)', async () => {
    script('require ["foreverypart", "mime", "fileinto", "variables"];\nset "bad" "../x";\nforeverypart { if header :mime :subtype "Content-Type" "pdf" { fileinto "attachments"; fileinto "${bad}"; } }\n');
    expect((await deliver(message())).code).toBe(0);
    expect(files('')).toHaveLength(1);
    expect(existsSync(join(md, '.attachments'))).toBe(false);
  });

  it('a break outside a loop is a compile error: INBOX, exit 0, and mda sieve check names it', async () => {
    script('require "foreverypart";\nbreak;\n');
    expect((await deliver(message())).code).toBe(0);
    expect(files('')).toHaveLength(1);
    const r = await runMda(['sieve', 'check', join(home, '.mda', 'filter.sieve')], { env: { PATH: process.env.PATH, HOME: home } });
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/filter\.sieve:2:1: break is only allowed inside a foreverypart loop/);
  });
});
