/**
 * The tricky messages the mbox interop tests deliver (issue 15): body lines
 * that start with `From `, `>From `, `>>From `, `From` without a space, no final
 * newline, 8-bit bytes (UTF-8 and Latin-1), a 3,000-byte line (longer than
 * Postfix's line_length_limit, so its queue file splits it), trailing empty
 * lines, headers only. Each has its own Message-ID. Data only: it neither
 * delivers nor reads anything.
 */

export interface CorpusMessage {
  name: string;
  /** Envelope sender ('' = the null sender). */
  sender: string;
  /** The message as the sender wrote it (no From_ line, no Return-Path). */
  data: Buffer;
}

const head = (id: string, subject: string, extra: string[] = []): string[] => [
  'From: Alice <alice@sender.test>',
  'To: mdatest@example.test',
  `Subject: ${subject}`,
  'Date: Sun, 22 Nov 2026 00:00:00 +0000',
  `Message-ID: <${id}@sender.test>`,
  ...extra,
];

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** mboxCorpus - the messages; `tag` makes the Message-IDs unique per run. */
export function mboxCorpus(tag: string): CorpusMessage[] {
  return [
    {
      name: 'From lines in the body',
      sender: 'alice@sender.test',
      data: utf8([...head(`from-lines.${tag}`, 'From lines'), '', 'From me: the first body line starts with "From ".',
        'From x', '>From x was quoted by someone else', '>>From y twice', 'Fromage is not a From_ line', ' From indented',
        'From', 'From  two spaces', 'last line', ''].join('\n')),
    },
    {
      name: 'no final newline',
      sender: 'alice@sender.test',
      data: utf8([...head(`no-newline.${tag}`, 'no final newline'), '', 'first', 'From the end, without a newline'].join('\n')),
    },
    {
      name: '8-bit UTF-8 and Latin-1',
      sender: 'alice@sender.test',
      data: Buffer.concat([
        utf8([...head(`8bit.${tag}`, '8-bit', ['MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit']), '', 'ünïcödé ✓ 日本語', ''].join('\n')),
        latin1('Latin-1 bytes: \xe4\xf6\xfc\xdf \xff\n'),
        utf8('From ünïcödé\n'),
      ]),
    },
    {
      name: 'null sender, long line, trailing empty lines',
      sender: '',
      data: utf8([...head(`bounce.${tag}`, 'Undelivered Mail Returned to Sender'), '', 'x'.repeat(3000), 'From after the long line', '', '', ''].join('\n')),
    },
    {
      name: 'headers only',
      sender: 'bob@sender.test',
      data: utf8(`${head(`headers-only.${tag}`, 'headers only').join('\n')}\n`),
    },
    {
      name: 'dot lines and an empty line before From',
      sender: 'carol@sender.test',
      data: utf8([...head(`dots.${tag}`, 'dots'), '', '.', '..', '.From dot', '', 'From after an empty line', '', '>From', ''].join('\n')),
    },
  ];
}

/**
 * postfixInput - the message as Postfix local(8) hands it to mailbox_command:
 * a From_ line, Return-Path, Delivered-To (mda strips the first, keeps the rest).
 */
export function postfixInput(m: CorpusMessage, recipient: string): Buffer {
  const from = m.sender === '' ? 'MAILER-DAEMON' : m.sender;
  return Buffer.concat([
    Buffer.from(`From ${from}  Sun Nov 22 00:00:01 2026\nReturn-Path: <${m.sender}>\nDelivered-To: ${recipient}\n`),
    m.data,
  ]);
}
