/**
 * Works out the envelope (sender, recipient, original recipient, extension)
 * from, in order of trust: command-line flags, the lines Postfix prepends on
 * stdin, then Postfix's environment. The environment comes last because
 * Postfix censors it (non-ASCII and shell characters become `_`).
 * Pure: no I/O.
 */
import type { HeaderField } from '../message/headers.js';

export interface Envelope {
  sender: string; // '' = null sender (bounces)
  recipient: string; // final envelope recipient, '' when unknown
  originalRecipient: string;
  extension: string; // address extension after '+', '' when none
}

export interface EnvelopeFlags {
  sender?: string;
  recipient?: string;
}

/**
 * envelopeAddress: the address inside one `<...>` that spans the whole value
 * (Postfix writes `Return-Path: <sender>`, quoting a local part with specials
 * as `"x>y"@host`), else the value as it is. Never the text up to the first
 * '>' (that cut `<"x>y"@evil.example>` to `"x`) and never one address picked
 * out of a list: what is not exactly one bracketed address stays whole, so
 * the checks that use it (vacation-rules.ts) see it and refuse it.
 */
export function envelopeAddress(value: string): string {
  const v = value.trim();
  return v.startsWith('<') && v.endsWith('>') ? v.slice(1, -1).trim() : v;
}

/** Fields Postfix's local(8) prepends, in its order (mail_copy.c). */
const PREPENDED = new Set(['return-path', 'x-original-to', 'delivered-to']);

/**
 * The leading fields Postfix added. Trusted only when the input started with a
 * From_ line, i.e. came from Postfix; otherwise a sender could forge them.
 */
export function prependedFields(fromLine: string | undefined, fields: HeaderField[]): Map<string, string> {
  const out = new Map<string, string>();
  if (fromLine === undefined) return out;
  for (const f of fields) {
    if (!PREPENDED.has(f.name) || out.has(f.name)) break;
    out.set(f.name, envelopeAddress(f.value));
  }
  return out;
}

/** The sender named in an mbox From_ line (`From sender  date`); MAILER-DAEMON means null. */
export function fromLineSender(fromLine: string | undefined): string | undefined {
  if (fromLine === undefined) return undefined;
  const sender = fromLine.slice(5).trim().split(/\s+/)[0] ?? '';
  return sender === 'MAILER-DAEMON' ? '' : sender;
}

/** The part of the local part after the first '+' (Postfix recipient_delimiter). */
export function extensionOf(address: string): string {
  const at = address.lastIndexOf('@');
  const local = at >= 0 ? address.slice(0, at) : address;
  const plus = local.indexOf('+');
  return plus >= 0 ? local.slice(plus + 1) : '';
}

export function buildEnvelope(
  flags: EnvelopeFlags,
  fromLine: string | undefined,
  fields: HeaderField[],
  env: NodeJS.ProcessEnv,
): Envelope {
  const pre = prependedFields(fromLine, fields);
  const sender = flags.sender ?? pre.get('return-path') ?? fromLineSender(fromLine) ?? env.SENDER ?? '';
  const recipient = flags.recipient ?? pre.get('delivered-to') ?? env.RECIPIENT ?? '';
  const originalRecipient = pre.get('x-original-to') ?? env.ORIGINAL_RECIPIENT ?? recipient;
  const extension = recipient ? extensionOf(recipient) : (env.EXTENSION ?? '');
  return { sender: envelopeAddress(sender), recipient, originalRecipient, extension };
}
