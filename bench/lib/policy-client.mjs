// bench/lib/policy-client.mjs: owns a small, fast client of Postfix's SMTP access policy
// delegation protocol (SMTPD_POLICY_README) for benchmarks, the same for every server it
// drives: one connection kept open for many requests, each request the attribute block
// smtpd sends at RCPT (name=value lines, then an empty line) in one write, each answer an
// `action=...` line and an empty line. One request in flight per connection, as smtpd does.
// Every wait for the server is bounded (a socket timeout armed only while an answer is
// awaited). Knows nothing of timing, servers or mailboxes.
import { connect } from 'node:net';

/**
 * smtpdRequest: the attribute block Postfix 3.x smtpd sends for `RCPT TO` (queue_id empty
 * before the first accepted recipient with the default `smtpd_delay_open_until_valid_rcpt`).
 * `seq` varies the client port and instance, as successive SMTP sessions do.
 */
export function smtpdRequest({ recipient, sender = 'alice@example.org', size = 2000, seq = 0 }) {
  return [
    'request=smtpd_access_policy',
    'protocol_state=RCPT',
    'protocol_name=ESMTP',
    'client_address=192.0.2.25',
    'client_name=mail.example.org',
    'client_port=' + (1024 + (seq % 60000)),
    'reverse_client_name=mail.example.org',
    'server_address=198.51.100.1',
    'server_port=25',
    'helo_name=mail.example.org',
    `sender=${sender}`,
    `recipient=${recipient}`,
    'recipient_count=0',
    'queue_id=',
    `instance=${(seq >>> 0).toString(16)}.5f3a.1`,
    `size=${size}`,
    'etrn_domain=',
    'stress=',
    'sasl_method=',
    'sasl_username=',
    'sasl_sender=',
    'ccert_subject=',
    'ccert_issuer=',
    'ccert_fingerprint=',
    'ccert_pubkey_fingerprint=',
    'encryption_protocol=TLSv1.3',
    'encryption_cipher=TLS_AES_256_GCM_SHA384',
    'encryption_keysize=256',
    'policy_context=',
    'compatibility_level=3.6',
    'mail_version=3.7.11',
    '',
    '',
  ].join('\n');
}

/**
 * openPolicy: connect to a unix socket path (or { host, port }). Resolves to
 * { ask(requestText) -> Promise<action string without "action=">, close() }; ask rejects when
 * the server closes, errs, answers without `action=`, or is silent for `timeoutMs`.
 */
export function openPolicy(to, { timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = typeof to === 'string' ? connect(to) : connect(to.port, to.host);
    let waiter = null; // { resolve, reject } of the request in flight
    let partial = '';
    let action = null; // the action line of the answer being read
    let failed = null;

    const fail = (err) => {
      if (failed) return;
      failed = err;
      sock.destroy();
      const w = waiter;
      waiter = null;
      if (w) w.reject(err);
    };
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      const text = partial + d.toString('latin1');
      let start = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
        const line = text.slice(start, i);
        start = i + 1;
        if (line !== '') {
          action ??= line;
          continue;
        }
        // The empty line ends the answer.
        const w = waiter;
        const got = action;
        waiter = null;
        action = null;
        sock.setTimeout(0);
        if (!w) return fail(new Error(`unasked answer: ${got}`));
        if (got === null || !got.startsWith('action=')) return fail(new Error(`answer without action=: ${JSON.stringify(got)}`));
        w.resolve(got.slice('action='.length));
      }
      partial = text.slice(start);
    });
    sock.on('timeout', () => fail(new Error(`policy server silent for ${timeoutMs} ms`)));
    sock.on('error', (e) => fail(e));
    sock.on('close', () => fail(new Error('policy server closed the connection')));
    sock.once('connect', () => {
      sock.setTimeout(0); // armed again only while an answer is awaited
      resolve({
        ask(text) {
          if (failed) return Promise.reject(failed);
          if (waiter) return Promise.reject(new Error('one request at a time per connection'));
          return new Promise((res, rej) => {
            waiter = { resolve: res, reject: rej };
            sock.setTimeout(timeoutMs);
            sock.write(text);
          });
        },
        close() {
          failed ??= new Error('closed by the client');
          sock.end();
          sock.destroy();
        },
      });
    });
    sock.once('error', reject);
    sock.setTimeout(timeoutMs, () => reject(new Error(`no connection within ${timeoutMs} ms`)));
  });
}
