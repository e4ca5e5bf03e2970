// bench/lib/flood-corpus.mjs: owns the corpus of the `flood` section: a
// deterministic mix of backscatter (bounces of mail forged in the recipient's
// name: Postfix, Exim and Exchange styles), ordinary ham (work mail, a mailing
// list, a multipart newsletter) and a few GTUBE spam, each 3-5 KB, each with
// a unique Message-ID, as Postfix's local(8) hands them to a mailbox_command
// (From_ line, Return-Path, Delivered-To prepended; LF line ends).

/** mulberry32: a small seeded PRNG, so every run builds the same corpus. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Assembled here so that no file in the repo holds the test string in one piece.
const GTUBE = ['XJS*C4JDBQADN1.NSBN3*2IDNEN*', 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'].join('');

const RCPT = 'bob@example.test';
const SENTENCES = [
  'The quarterly figures are in the shared folder under finance/2026-q4.',
  'Could you review the attached draft before Thursday afternoon?',
  'We moved the planning meeting to room 3.14 because of the fire drill.',
  'The build on the release branch is green again since this morning.',
  'Please remember to update the on-call rota for the holiday weeks.',
  'I have added comments to sections two and five of the proposal.',
  'The supplier confirmed delivery of the replacement disks for next week.',
  'Our team lunch is on Friday at noon, vegetarian options included.',
  'The migration of the old ticket system finished without data loss.',
  'Let me know if the new VPN profile works on your laptop as well.',
  'Minutes of the last steering meeting are attached for reference.',
  'The customer asked for a short call about the renewal terms.',
  'Backups of the archive volume now run nightly at half past two.',
  'I will be out of the office on Monday; Carol covers the support queue.',
  'The new coffee machine on the second floor finally has a manual.',
  'Attendance for the training session is mandatory for new joiners.',
  'Thanks for the quick turnaround on the invoice corrections.',
  'The staging database will be refreshed from production on Sunday.',
  'We still need two volunteers for the booth at the trade fair.',
  'The pull request needs one more approval before it can be merged.',
];
const SUBJECTS = [
  'Re: project timeline', 'Minutes from Tuesday', 'Quarterly figures', 'Re: lunch on Friday',
  'Question about the renewal', 'Draft proposal v3', 'On-call rota update', 'Re: staging refresh',
];
const FORGED_SUBJECTS = [
  'Re: your invoice 48213', 'Order confirmation 77120', 'Payment reminder', 'Re: shipment status',
  'Your account statement', 'Re: meeting request', 'Document shared with you', 'Re: delivery notice',
];
const PEOPLE = ['Alice Martin', 'Carol Nguyen', 'Dave Okafor', 'Erin Schulz', 'Frank Moreau', 'Grace Lindqvist'];
const REMOTE = ['mx1.example.com', 'mail.example.net', 'smtp.example.org', 'mx.example.co.uk', 'mail2.example.de'];

const pad2 = (n) => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const rfc2822 = (d) =>
  `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
const ctime = (d) =>
  `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;

/**
 * makeCorpus returns [{ id, kind: 'backscatter'|'ham'|'spam', bytes: Buffer }].
 * Every `spamEvery`-th message is GTUBE spam; of the rest about 60 % are
 * backscatter and 40 % ham. Sizes are uniform in [minBytes, maxBytes].
 */
export function makeCorpus({ count, seed = 1, spamEvery = 25, minBytes = 3072, maxBytes = 5120 }) {
  const rnd = prng(seed);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const hex = (n) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const ip = (net) => `${net}.${1 + Math.floor(rnd() * 253)}`;
  const tag = `${seed.toString(36)}${hex(6)}`;
  const start = Date.UTC(2026, 10, 21, 8, 0, 0);
  const out = [];
  for (let i = 0; i < count; i++) {
    const kind = i % spamEvery === 7 ? 'spam' : rnd() < 0.6 ? 'backscatter' : 'ham';
    const date = new Date(start + i * 7_000 + Math.floor(rnd() * 5_000));
    const id = `${date.getTime().toString(36)}.${String(i).padStart(5, '0')}.${kind}.${tag}@flood.example`;
    const target = minBytes + Math.floor(rnd() * (maxBytes - minBytes + 1));
    const ctx = { rnd, pick, hex, ip, date, id };
    const text = kind === 'spam' ? spam(ctx) : kind === 'ham' ? ham(ctx) : backscatter(ctx);
    out.push({ id, kind, bytes: Buffer.from(fill(text, target, rnd), 'utf8') });
  }
  return out;
}

/** fill replaces the one {{FILL}} with wrapped sentences until the message has `target` bytes. */
function fill(text, target, rnd) {
  const base = Buffer.byteLength(text) - '{{FILL}}'.length;
  const lines = [];
  let size = 0;
  let line = '';
  while (base + size + line.length < target) {
    const s = SENTENCES[Math.floor(rnd() * SENTENCES.length)];
    if (line.length + s.length + 1 > 72) {
      lines.push(line);
      size += line.length + 1;
      line = '';
      if (rnd() < 0.2) {
        lines.push('');
        size += 1;
      }
    }
    line = line ? `${line} ${s}` : s;
  }
  if (line) lines.push(line);
  return text.replace('{{FILL}}', lines.join('\n'));
}

/** The lines Postfix's local(8) prepends for a mailbox_command, then the message itself. */
function envelope(sender, date, relay) {
  return [
    `From ${sender || 'MAILER-DAEMON'}  ${ctime(date)}`,
    `Return-Path: <${sender}>`,
    `X-Original-To: ${RCPT}`,
    `Delivered-To: ${RCPT}`,
    `Received: from ${relay.host} (${relay.host} [${relay.ip}])`,
    `\tby mx.example.test (Postfix) with ESMTPS id 4Z${relay.qid}`,
    `\tfor <${RCPT}>; ${rfc2822(relay.date)}`,
  ];
}

function backscatter({ pick, hex, ip, date, id }) {
  const host = pick(REMOTE);
  const relay = { host, ip: ip('198.51.100'), qid: hex(10).toUpperCase(), date };
  const victim = `${pick(['info', 'sales', 'j.doe', 'accounts', 'noreply', 'm.rossi'])}@${host.replace(/^[^.]+\./, '')}`;
  const forgedId = `${hex(16)}@example.test`;
  const forgedSubject = pick(FORGED_SUBJECTS);
  const orig = new Date(date.getTime() - 90_000);
  const bot = ip('203.0.113');
  const forged = [
    `Received: from [${bot}] (unknown [${bot}])`,
    `\tby ${host} (Postfix) with ESMTP id ${hex(10).toUpperCase()}`,
    `\tfor <${victim}>; ${rfc2822(orig)}`,
    `From: "Bob" <${RCPT}>`,
    `To: <${victim}>`,
    `Subject: ${forgedSubject}`,
    `Date: ${rfc2822(orig)}`,
    `Message-ID: <${forgedId}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
  ];
  const style = pick(['postfix', 'postfix', 'exim', 'exchange']);
  const b = `----=_Part_${hex(12)}`;
  const head = (from, subject, ctype) => [
    ...envelope('', date, relay),
    `From: ${from}`,
    `To: ${RCPT}`,
    `Subject: ${subject}`,
    `Date: ${rfc2822(date)}`,
    `Message-ID: <${id}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: ${ctype}`,
    '',
  ];
  if (style === 'exim') {
    return [
      ...head(`Mail Delivery System <Mailer-Daemon@${host}>`, 'Mail delivery failed: returning message to sender', 'text/plain; charset=us-ascii'),
      'This message was created automatically by mail delivery software.',
      '',
      'A message that you sent could not be delivered to one or more of its',
      'recipients. This is a permanent error. The following address(es) failed:',
      '',
      `  ${victim}`,
      '    host ' + host + ` [${ip('198.51.100')}]`,
      `    SMTP error from remote mail server after RCPT TO:<${victim}>:`,
      '    550 5.1.1 User unknown',
      '',
      '------ This is a copy of the message, including all the headers. ------',
      '',
      ...forged,
      '',
      '{{FILL}}',
      '',
    ].join('\n');
  }
  const report = [
    `Reporting-MTA: dns; ${host}`,
    `X-Postfix-Queue-ID: ${hex(10).toUpperCase()}`,
    `Arrival-Date: ${rfc2822(orig)}`,
    '',
    `Final-Recipient: rfc822; ${victim}`,
    `Original-Recipient: rfc822;${victim}`,
    'Action: failed',
    'Status: 5.1.1',
    `Remote-MTA: dns; ${host}`,
    `Diagnostic-Code: smtp; 550 5.1.1 <${victim}>: Recipient address rejected: User unknown in virtual mailbox table`,
  ];
  if (style === 'exchange') {
    return [
      ...head(`postmaster@${host.replace(/^[^.]+\./, '')}`, `Undeliverable: ${forgedSubject}`, `multipart/report; report-type=delivery-status;\n\tboundary="${b}"`),
      'This is a multi-part message in MIME format.',
      '',
      `--${b}`,
      'Content-Type: text/plain; charset="us-ascii"',
      '',
      'Delivery has failed to these recipients or groups:',
      '',
      `${victim}`,
      "The email address you entered couldn't be found. Please check the recipient's",
      'email address and try to resend the message.',
      '',
      'Diagnostic information for administrators:',
      `Generating server: ${host}`,
      `Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'`,
      '',
      '{{FILL}}',
      '',
      `--${b}`,
      'Content-Type: message/delivery-status',
      '',
      ...report,
      '',
      `--${b}`,
      'Content-Type: text/rfc822-headers',
      '',
      ...forged,
      '',
      `--${b}--`,
      '',
    ].join('\n');
  }
  return [
    ...head(`MAILER-DAEMON@${host} (Mail Delivery System)`, 'Undelivered Mail Returned to Sender', `multipart/report; report-type=delivery-status;\n\tboundary="${b}"`),
    'This is a MIME-encapsulated message.',
    '',
    `--${b}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is the mail system at host ${host}.`,
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients. It\'s attached below.',
    '',
    'For further assistance, please send mail to postmaster.',
    '',
    `<${victim}>: host ${host}[${ip('198.51.100')}] said: 550 5.1.1 <${victim}>:`,
    '    Recipient address rejected: User unknown (in reply to RCPT TO command)',
    '',
    `--${b}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    ...report,
    '',
    `--${b}`,
    'Content-Description: Undelivered Message',
    'Content-Type: message/rfc822',
    '',
    ...forged,
    '',
    '{{FILL}}',
    '',
    `--${b}--`,
    '',
  ].join('\n');
}

function ham({ pick, hex, ip, date, id }) {
  const who = pick(PEOPLE);
  const addr = `${who.split(' ')[0].toLowerCase()}@partner.example.org`;
  const relay = { host: 'mail.partner.example.org', ip: ip('192.0.2'), qid: hex(10).toUpperCase(), date };
  const client = ip('192.0.2');
  const common = [
    ...envelope(addr, date, relay),
    `Received: from [${client}] (unknown [${client}])`,
    `\tby mail.partner.example.org (Postfix) with ESMTPSA id ${hex(10).toUpperCase()}`,
    `\tfor <${RCPT}>; ${rfc2822(new Date(date.getTime() - 2_000))}`,
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=partner.example.org; s=mail;',
    `\tt=${Math.floor(date.getTime() / 1000)}; bh=${hex(43)}=;`,
    '\th=From:To:Subject:Date:Message-ID;',
    `\tb=${hex(76)}`,
    `From: ${who} <${addr}>`,
    `To: Bob Example <${RCPT}>`,
  ];
  const style = pick(['plain', 'plain', 'list', 'alternative']);
  if (style === 'list') {
    return [
      ...common,
      `Subject: [ops-announce] ${pick(SUBJECTS)}`,
      `Date: ${rfc2822(date)}`,
      `Message-ID: <${id}>`,
      'List-Id: Operations announcements <ops-announce.lists.example.org>',
      'List-Archive: <https://lists.example.org/pipermail/ops-announce/>',
      'List-Unsubscribe: <mailto:ops-announce-leave@lists.example.org>',
      'Precedence: list',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Hello all,',
      '',
      '{{FILL}}',
      '',
      '-- ',
      'ops-announce mailing list',
      'https://lists.example.org/mailman/listinfo/ops-announce',
      '',
    ].join('\n');
  }
  if (style === 'alternative') {
    const b = `=_alt_${hex(16)}`;
    const para = pick(SENTENCES);
    return [
      ...common,
      `Subject: ${pick(SUBJECTS)}`,
      `Date: ${rfc2822(date)}`,
      `Message-ID: <${id}>`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/alternative; boundary="${b}"`,
      '',
      `--${b}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Hi Bob,',
      '',
      '{{FILL}}',
      '',
      `${who.split(' ')[0]}`,
      '',
      `--${b}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `<html><body><p>Hi Bob,</p><p>${para}</p><p>${who.split(' ')[0]}</p></body></html>`,
      '',
      `--${b}--`,
      '',
    ].join('\n');
  }
  return [
    ...common,
    `Subject: ${pick(SUBJECTS)}`,
    `Date: ${rfc2822(date)}`,
    `Message-ID: <${id}>`,
    `In-Reply-To: <${hex(12)}@example.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Hi Bob,',
    '',
    '{{FILL}}',
    '',
    'Best regards,',
    who,
    '',
  ].join('\n');
}

function spam({ hex, ip, date, id }) {
  const relay = { host: `host-${hex(4)}.dyn.example.net`, ip: ip('203.0.113'), qid: hex(10).toUpperCase(), date };
  return [
    ...envelope(`promo-${hex(6)}@offers.example.net`, date, relay),
    `From: "Special Offers" <promo@offers.example.net>`,
    `To: ${RCPT}`,
    'Subject: Limited time offer just for you',
    `Date: ${rfc2822(date)}`,
    `Message-ID: <${id}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the GTUBE, the generic test for unsolicited bulk email:',
    '',
    GTUBE,
    '',
    '{{FILL}}',
    '',
  ].join('\n');
}
