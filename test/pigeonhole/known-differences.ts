/**
 * The Pigeonhole .svtest files mda fails, each with the reason (testsuite.test.ts
 * fails on a failing file missing here, and on an entry whose file now passes).
 * Reasons in groups: (E) Pigeonhole's compile-error counts and wording (mda
 * reports other messages, and not always as many); (X) the compiled scripts
 * use an extension mda does not have (yet); (D) a deliberate difference; (C) a
 * Pigeonhole setting (test_config_set) mda has no counterpart for; (R) mda
 * resolves includes when the script runs, Pigeonhole when it compiles; (U) the
 * RFCs leave it open and mda chose otherwise than Pigeonhole; "BUG (not fixed
 * yet):" an mda deviation from an RFC, listed so that it stays visible. Data only.
 */
const ERRORS = '(E) checks the number and text of Pigeonhole\'s compile errors; mda reports its own messages and counts';
const REJECT = '(D) compiles scripts using reject/ereject, which mda refuses on purpose (it never bounces after Postfix accepted the message)';
const CONFIG = '(C) depends on Pigeonhole settings set with test_config_set, which mda does not have';
const INCLUDE_COMPILE = '(R) mda reads and checks included scripts when the script runs (RFC 6609 §3.2 allows a runtime error), so a circular include, the include count and the nesting depth are runtime errors, not compile errors';
const ext = (names: string): string => `(X) its scripts need ${names}, which mda does not support (yet)`;

export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  'tests/compile/compile.svtest': '(D) redirect.sieve redirects to "stephan@ example.org": mda refuses an address with a space at compile time (RFC 5228 §2.4.2.3), Pigeonhole normalises it',
  'tests/compile/errors.svtest': ERRORS,
  'tests/compile/recover.svtest': ERRORS,
  'tests/deprecated/imapflags/errors.svtest': ERRORS,
  'tests/deprecated/imapflags/execute.svtest': ext('the deprecated imapflags draft (mda has RFC 5232 imap4flags)'),
  'tests/deprecated/notify/errors.svtest': ERRORS,
  'tests/deprecated/notify/execute.svtest': ext('the deprecated notify draft'),
  'tests/execute/address-normalize.svtest': '(D) mda refuses a redirect to a quoted local part ("S[r]us"@example.net) as not a plain address',
  'tests/execute/errors.svtest': `${REJECT}; Pigeonhole's action/redirect limits and fileinto errors for missing or invalid folders differ (mda creates folders)`,
  'tests/execute/examples.svtest': REJECT,
  'tests/execute/smtp.svtest': `${CONFIG} (sieve_redirect_envelope_from); the harness does not add Pigeonhole's X-Sieve-Redirected-From header`,
  'tests/extensions/body/text.svtest': '(D) body :text: mda searches a part with an invalid Content-Type ("text/plain/stupid") as text/plain (RFC 2045 §5.2 recommends that default), and neither turns text/html into text nor searches application/xhtml+xml as Pigeonhole does (RFC 5173 §5.1 leaves the conversion to the implementation)',
  'tests/extensions/duplicate/errors.svtest': ERRORS,
  'tests/extensions/editheader/addheader.svtest': '(D) "Addheader - devious characters": mda drops control characters (BEL) from an added value; Pigeonhole keeps them',
  'tests/extensions/editheader/errors.svtest': `${ERRORS}; (D) mda drops a NUL from an added value where Pigeonhole refuses the script; ${CONFIG.slice(4)} (sieve_editheader_max_header_size); (D) mda creates the missing folder the runtime-error script files into, so that script does not fail`,
  'tests/extensions/editheader/protected.svtest': `${CONFIG} (sieve_editheader_protected, _forbid_add, _forbid_delete: mda's protected fields are fixed)`,
  'tests/extensions/encoded-character.svtest': '(D) string :is "B" "b" matches in mda: RFC 5228 §2.7.3 makes i;ascii-casemap the default comparator; Pigeonhole\'s string test compares case-sensitively',
  'tests/extensions/enotify/encodeurl.svtest': `${CONFIG} (sieve_variables_max_variable_size 4000: mda's variables hold 4096 bytes)`,
  'tests/extensions/enotify/errors.svtest': ERRORS,
  'tests/extensions/enotify/execute.svtest': '(D) mda counts each notification recipient against [sieve] max_redirects (default 4, Pigeonhole\'s sieve_max_redirects default too); duplicates.sieve notifies 5 distinct recipients, a runtime error in mda; Pigeonhole limits notify actions separately',
  'tests/extensions/enotify/mailto.svtest': '(D) mda adds no X-Sieve header to a notification; (D) the envelope sender is the user\'s address (or <> for a <> message), not the postmaster, and a :from does not change it; (D) mda lists a recipient again in Cc when the URI names it in To too (it sends one copy per recipient all the same); (D) mda refuses a mailto URI whose to= is a name-addr ("Name <addr>"), RFC 6068 §2 names addr-specs; ' + `${CONFIG} (sieve_notify_mailto_envelope_from, sieve_user_email)`,
  'tests/extensions/envelope.svtest': '(D) envelope paths: mda does not parse source routes (@a,@b:user@c) and accepts some paths Pigeonhole calls invalid',
  'tests/extensions/environment/basic.svtest': '(D) environment "name" is "mda", not "Pigeonhole Sieve", and "location" is "MDA" (RFC 5183 §4.1: mda delivers), not the testsuite\'s "MS"',
  'tests/extensions/ihave/restrictions.svtest': '(D) ihave "encoded-character" and ihave "variables" are true in mda (both are supported); Pigeonhole refuses them under ihave because it cannot switch on extensions that change how strings are read in a block it compiles late',
  'tests/extensions/imap4flags/multiscript.svtest': '(D) the internal flags variable is per script in mda; Pigeonhole carries it from one script of a chain to the next',
  'tests/extensions/include/errors.svtest': `${ERRORS}; ${INCLUDE_COMPILE}`,
  'tests/extensions/index/errors.svtest': ERRORS,
  'tests/extensions/metadata/errors.svtest': ext('mboxmetadata/servermetadata'),
  'tests/extensions/mime/errors.svtest': `${ERRORS}; (U) a foreverypart loop in an included script does not nest inside the includer's loop in mda (see mime/foreverypart.svtest), so the loop-depth limit across includes is not reached; (D) mda accepts require "extracttext" without "foreverypart" in a script that does not use extracttext`,
  'tests/extensions/mime/exists.svtest': '(U) exists :mime :anychild with several names: mda is true when one part has all of them; Pigeonhole when each name is in some part (RFC 5703 §4.3 does not say which)',
  'tests/extensions/mime/foreverypart.svtest': '(U) a foreverypart loop in an included script starts over at the top level in mda; Pigeonhole nests it in the includer\'s current loop part (RFC 5703 §3 and RFC 6609 do not say)',
  'tests/extensions/regex/errors.svtest': ERRORS,
  'tests/extensions/reject/execute.svtest': REJECT,
  'tests/extensions/relational/errors.svtest': ERRORS,
  'tests/extensions/spamvirustest/errors.svtest': ERRORS,
  'tests/extensions/spamvirustest/spamtest.svtest': `${CONFIG} (sieve_spamtest_*: mda reads its scan values from its own [spam] settings)`,
  'tests/extensions/spamvirustest/spamtestplus.svtest': `${CONFIG} (sieve_spamtest_*)`,
  'tests/extensions/spamvirustest/virustest.svtest': `${CONFIG} (sieve_virustest_*)`,
  'tests/extensions/special-use/errors.svtest': ext('special-use'),
  'tests/extensions/subaddress/config.svtest': `${CONFIG} (recipient_delimiter: mda uses "+")`,
  'tests/extensions/vacation/errors.svtest': REJECT,
  'tests/extensions/vacation/message.svtest': `${CONFIG} (sieve_vacation_default_subject*, max subject length)`,
  'tests/extensions/vacation/reply.svtest': `${CONFIG} (sieve_user_email, sieve_vacation_*); mda's own rules for whom to answer differ`,
  'tests/extensions/vacation/smtp.svtest': '(D) mda counts the original recipient among the user\'s addresses for vacation (it answers from it); Pigeonhole does only with sieve_vacation_use_original_recipient',
  'tests/extensions/vacation/utf-8.svtest': '(D) mda quotes the display name of the reply\'s From ("Günther M. Karotte" <...>), Pigeonhole does not',
  'tests/extensions/variables/basic.svtest': '(D) string :is compares with i;ascii-casemap in mda (RFC 5228 §2.7.3); Pigeonhole\'s test expects case-sensitive matching',
  'tests/extensions/variables/errors.svtest': ERRORS,
  'tests/extensions/variables/limits.svtest': `${CONFIG} (sieve_variables_max_variable_size)`,
  'tests/extensions/variables/modifiers.svtest': '(D) its checks use string :is "${x}" "value" to tell "Value" from "value": mda\'s default comparator is i;ascii-casemap (RFC 5228 §2.7.3), so they match',
  'tests/extensions/vnd.dovecot/report/errors.svtest': ERRORS,
  'tests/multiscript/conflicts.svtest': REJECT,
  'tests/plugins/extprograms/execute/errors.svtest': ext('vnd.dovecot.execute'),
  'tests/plugins/extprograms/filter/errors.svtest': ext('vnd.dovecot.filter'),
  'tests/plugins/extprograms/pipe/errors.svtest': ext('vnd.dovecot.pipe'),
  'tests/test-address.svtest': '(D) mda matches addresses whose local part is not valid UTF-8; Pigeonhole treats them as invalid',
  'tests/testsuite.svtest': '(D) envelope "auth" is Pigeonhole-only: mda knows the envelope parts of RFC 5228 §5.4 (from, to)',
};
