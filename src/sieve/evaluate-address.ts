/**
 * The address and envelope tests' view of addresses: the ADDRESS-PART
 * (RFC 5228 §2.7.4, :user/:detail RFC 5233 with Postfix's '+' separator) of
 * every entry of an address-list header, or of an envelope address. Parsing
 * is address.ts's; this only maps entries to the values a test matches.
 * Pure: no I/O.
 */
import { addressPart, parseAddressList, parseEnvelopeAddress, type AddressPart, type ParsedAddress } from './address.js';

export type { AddressPart } from './address.js';

/** Postfix's default recipient_delimiter. */
const SEPARATOR = '+';

/**
 * Parsed lists by header value: a script tests From or To many times and each
 * parse is the same. Bounded, since one process delivers one message.
 */
const parsed = new Map<string, ParsedAddress[]>();
const MAX_PARSED = 256;

function parse(value: string): ParsedAddress[] {
  let list = parsed.get(value);
  if (!list) {
    list = parseAddressList(value);
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(value, list);
  }
  return list;
}

export function addressValues(headerValue: string, part: AddressPart): string[] {
  const out: string[] = [];
  for (const a of parse(headerValue)) {
    const v = addressPart(a, part, SEPARATOR);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** RFC 5228 §5.4: the null reverse-path is "" (for every part, as in Pigeonhole); source routes are dropped. */
export function envelopeValues(address: string, part: AddressPart): string[] {
  const v = addressPart(parseEnvelopeAddress(address), part, SEPARATOR);
  return v === undefined ? [] : [v];
}
