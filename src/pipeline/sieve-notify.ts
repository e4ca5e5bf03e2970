/**
 * Sends the plan's enotify mailto notifications (RFC 5435, RFC 5436) through [delivery] sendmail,
 * the way redirects and vacation replies go (sieve-post.ts's sender): one sendmail run per
 * recipient, MAIL FROM <> when the triggering message's was <>. Called only once the delivery has
 * committed (a copy is durable, or the discard is final). Failures are logged and never change
 * the outcome. Must not: decide whether a notification is due (evaluate-notify.ts did).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.js';
import { buildNotification } from '../sieve/notify-message.js';
import type { Notification } from '../sieve/plan.js';
import { postSender, type PostInput } from './sieve-post.js';

export async function runNotifications(p: Pick<PostInput, 'deadline' | 'config' | 'home' | 'user' | 'logger'>, notifications: readonly Notification[]): Promise<void> {
  if (notifications.length === 0) return;
  const { send } = postSender(p);
  for (const n of notifications) {
    if (n.note) p.logger.info(`sieve: notify: ${n.note}`);
    const body = buildNotification(n, { now: new Date(), messageId: `<${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${hostname()}>` });
    const why = await send({ sender: n.sender, recipient: n.recipient, body });
    logResult(p.logger, n.recipient, why);
  }
}

function logResult(logger: Logger, recipient: string, why: string | undefined): void {
  if (why) logger.warn(`sieve: notification to <${recipient}> failed: ${why}`);
  else logger.info(`sieve: notification sent to <${recipient}>`);
}
