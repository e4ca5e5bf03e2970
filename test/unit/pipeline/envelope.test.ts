import { describe, expect, it } from 'vitest';
import { parseHeaders } from '../../../src/message/headers.js';
import { buildEnvelope, extensionOf, fromLineSender, prependedFields } from '../../../src/pipeline/envelope.js';
import { countDeliveredTo, earlyChecks } from '../../../src/pipeline/early-checks.js';

const FROM = 'From alice@sender.test  Sat Nov 21 23:21:04 2026';
const POSTFIX_HEAD = 'Return-Path: <alice@sender.test>\nX-Original-To: bob+box@example.test\nDelivered-To: bob+box@example.test\nSubject: x\n';
const h = (s: string) => parseHeaders(Buffer.from(s));

describe('buildEnvelope: flags, then Postfix prepended lines, then censored environment', () => {
  const env = { SENDER: 'censored_@sender.test', RECIPIENT: 'env@example.test', ORIGINAL_RECIPIENT: 'orig@example.test', EXTENSION: 'envext' };
  it.each([
    ['postfix lines win over env', {}, FROM, POSTFIX_HEAD, env,
      { sender: 'alice@sender.test', recipient: 'bob+box@example.test', originalRecipient: 'bob+box@example.test', extension: 'box' }],
    ['flags win over everything', { sender: 'f@x', recipient: 'r+e@x' }, FROM, POSTFIX_HEAD, env,
      { sender: 'f@x', recipient: 'r+e@x', originalRecipient: 'bob+box@example.test', extension: 'e' }],
    ['null sender from Return-Path <>', {}, 'From MAILER-DAEMON  Sat Nov 21 23:21:04 2026', 'Return-Path: <>\nDelivered-To: bob@example.test\n', {},
      { sender: '', recipient: 'bob@example.test', originalRecipient: 'bob@example.test', extension: '' }],
    ['null sender from From_ alone', {}, 'From MAILER-DAEMON  Sat Nov 21 23:21:04 2026', 'Subject: x\n', {},
      { sender: '', recipient: '', originalRecipient: '', extension: '' }],
    ['no From_ line: headers are not trusted, env is used', {}, undefined, POSTFIX_HEAD, env,
      { sender: 'censored_@sender.test', recipient: 'env@example.test', originalRecipient: 'orig@example.test', extension: '' }],
    ['no From_ and no env', {}, undefined, 'Subject: x\n', {},
      { sender: '', recipient: '', originalRecipient: '', extension: '' }],
    ['no recipient anywhere: EXTENSION env', {}, undefined, '', { EXTENSION: 'ext' },
      { sender: '', recipient: '', originalRecipient: '', extension: 'ext' }],
    ['forged Delivered-To after other headers is not prepended', {}, FROM, 'Return-Path: <a@b>\nSubject: x\nDelivered-To: evil@x\n', { RECIPIENT: 'bob@example.test' },
      { sender: 'a@b', recipient: 'bob@example.test', originalRecipient: 'bob@example.test', extension: '' }],
    ['UTF-8 sender kept raw (env would say j__rgen)', {}, FROM, 'Return-Path: <jürgen@sender.test>\nDelivered-To: bob@example.test\n', { SENDER: 'j__rgen@sender.test' },
      { sender: 'jürgen@sender.test', recipient: 'bob@example.test', originalRecipient: 'bob@example.test', extension: '' }],
    ['sender flag with angle brackets', { sender: '<x@y>' }, undefined, '', {},
      { sender: 'x@y', recipient: '', originalRecipient: '', extension: '' }],
    // Issue 10 finding 6: the whole bracketed value, never cut at the first '>' nor one address picked from a list.
    ['quoted local part with ">" kept whole', {}, FROM, 'Return-Path: <"x>y"@evil.example>\nDelivered-To: bob@example.test\n', {},
      { sender: '"x>y"@evil.example', recipient: 'bob@example.test', originalRecipient: 'bob@example.test', extension: '' }],
    ['a list in Return-Path stays a list', {}, FROM, 'Return-Path: <a@b.example, c@d.example>\nDelivered-To: bob@example.test\n', {},
      { sender: 'a@b.example, c@d.example', recipient: 'bob@example.test', originalRecipient: 'bob@example.test', extension: '' }],
    ['two bracketed addresses stay whole', {}, FROM, 'Return-Path: Eve <a@b.example>, <c@d.example>\nDelivered-To: bob@example.test\n', {},
      { sender: 'Eve <a@b.example>, <c@d.example>', recipient: 'bob@example.test', originalRecipient: 'bob@example.test', extension: '' }],
  ] as const)('%s', (_n, flags, fromLine, head, e, want) => {
    expect(buildEnvelope({ ...flags }, fromLine, h(head), { ...e })).toEqual(want);
  });
});

describe('pieces', () => {
  it.each([
    ['From a@b  Sat Nov 21 23:21:04 2026', 'a@b'],
    ['From MAILER-DAEMON  Sat', ''],
    [undefined, undefined],
  ])('fromLineSender(%j) = %j', (l, want) => expect(fromLineSender(l)).toBe(want));
  it.each([
    ['bob+box@x', 'box'],
    ['bob+a+b@x', 'a+b'],
    ['bob@x', ''],
    ['bob+x', 'x'],
    ['"a+b"@x', 'b"'],
  ])('extensionOf(%j) = %j', (a, want) => expect(extensionOf(a)).toBe(want));
  it('prependedFields stops at the first other header', () => {
    expect([...prependedFields(FROM, h('Delivered-To: a@b\nReturn-Path: <c@d>\nX: 1\nX-Original-To: e@f\n'))]).toEqual([
      ['delivered-to', 'a@b'],
      ['return-path', 'c@d'],
    ]);
  });
});

describe('earlyChecks: mail loops (Delivered-To, Postfix recipient.c)', () => {
  const env = { sender: 'a@b', recipient: 'bob@example.test', originalRecipient: '', extension: '' };
  it.each([
    ['one Delivered-To (Postfix own)', 'Delivered-To: bob@example.test\n', undefined],
    ['two for us: loop', 'Delivered-To: bob@example.test\nX: 1\nDelivered-To: <BOB@Example.TEST>\n', '5.4.6'],
    ['two for others', 'Delivered-To: bob@example.test\nDelivered-To: carol@example.test\n', undefined],
    ['none', 'Subject: x\n', undefined],
  ])('%s', (_n, head, dsn) => {
    const o = earlyChecks(env, h(head));
    if (dsn === undefined) expect(o).toBeUndefined();
    else expect(o).toMatchObject({ kind: 'reject', cause: 'loop' });
  });
  it('ignores loops when the recipient is unknown', () => {
    expect(earlyChecks({ ...env, recipient: '' }, h('Delivered-To: \nDelivered-To: \n'))).toBeUndefined();
  });
  it('counts case-insensitively', () => expect(countDeliveredTo(h('Delivered-To: A@B\ndelivered-to: a@b\n'), 'a@B')).toBe(2));
});
