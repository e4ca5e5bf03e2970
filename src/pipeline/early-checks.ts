/**
 * Decisions that can end a delivery before anything is committed: mail loops
 * (Delivered-To, as Postfix local(8) recipient.c does). Size is enforced while
 * spooling (spool.ts) because it must not wait for the whole message.
 * Pure: no I/O.
 */
import type { HeaderField } from '../message/headers.js';
import { angleAddress } from '../message/headers.js';
import { reject, type Outcome } from '../outcome/outcome.js';
import type { Envelope } from './envelope.js';

/**
 * Postfix prepends exactly one Delivered-To for this recipient before running
 * the command; any further copy means the message has been here before.
 */
const ALLOWED_DELIVERED_TO = 1;

export function countDeliveredTo(fields: HeaderField[], recipient: string): number {
  const want = recipient.toLowerCase();
  return fields.filter((f) => f.name === 'delivered-to' && angleAddress(f.value).toLowerCase() === want).length;
}

/** earlyChecks returns an outcome that ends the delivery, or undefined to go on. */
export function earlyChecks(envelope: Envelope, fields: HeaderField[]): Outcome | undefined {
  if (envelope.recipient && countDeliveredTo(fields, envelope.recipient) > ALLOWED_DELIVERED_TO) {
    return reject('loop', `mail forwarding loop for ${envelope.recipient}`);
  }
  return undefined;
}
