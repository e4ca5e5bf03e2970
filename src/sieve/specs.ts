/**
 * The spec table of every Sieve command and test mda supports (RFC 5228 and the extensions in
 * SUPPORTED_CAPABILITIES): the capability that enables it, its tags, positional arguments,
 * sub-tests and block. Data only; validate.ts applies it, the evaluator may read it.
 */

export type ArgType = 'string' | 'string-list' | 'number';

/** Every capability `require` accepts (RFC 5228 §3.2, §6). Capability names are case-sensitive. */
export const SUPPORTED_CAPABILITIES: ReadonlySet<string> = new Set([
  'fileinto', 'envelope', 'encoded-character', // RFC 5228
  'variables', // RFC 5229
  'vacation', 'vacation-seconds', // RFC 5230, RFC 6131 (:seconds)
  'relational', // RFC 5231
  'imap4flags', // RFC 5232
  'subaddress', // RFC 5233
  'body', // RFC 5173
  'copy', // RFC 3894
  'mailbox', // RFC 5490 (mailboxexists, fileinto :create)
  'spamtest', 'spamtestplus', 'virustest', // RFC 5235
  'duplicate', // RFC 7352
  'regex', // draft-ietf-sieve-regex
  'enotify', // RFC 5435, with the mailto method of RFC 5436
  'mime', 'foreverypart', 'extracttext', // RFC 5703
  'date', 'index', // RFC 5260
  'environment', // RFC 5183
  'ihave', // RFC 5463
  'editheader', // RFC 5293
  'include', // RFC 6609 (include, return, global)
  'comparator-i;octet', 'comparator-i;ascii-casemap', 'comparator-i;ascii-numeric', // RFC 5228 §2.7.3, RFC 4790
]);

/** Capabilities that bring another with them: spamtestplus is spamtest plus :percent (RFC 5235), vacation-seconds is vacation plus :seconds (RFC 6131). */
export const IMPLIED_CAPABILITIES: Readonly<Record<string, readonly string[]>> = {
  spamtestplus: ['spamtest'],
  'vacation-seconds': ['vacation'],
};

export interface TagSpec {
  /** The tag takes the next argument, of this type (`:comparator "x"`); absent: a flag (`:copy`). */
  arg?: ArgType;
  /** Tags of one group exclude each other (RFC 5228 §2.6: no conflicting arguments); named in messages. */
  group?: string;
  /** The capability that must be required to use this tag. */
  capability?: string;
}

export interface PositionalSpec {
  name: string;
  type: ArgType;
}

export interface NodeSpec {
  kind: 'command' | 'test';
  /** One of these must be required (absent: always available). */
  capability?: readonly string[];
  tags: Readonly<Record<string, TagSpec>>;
  positional: readonly PositionalSpec[];
  /** An optional first positional that needs a capability: the variable name of RFC 5232 §3-§4. */
  optionalFirst?: { spec: PositionalSpec; capability: string };
  /** An optional last positional (deleteheader's value patterns, RFC 5293 §5). */
  optionalLast?: PositionalSpec;
  /** Commands: 'test' = if/elsif's one test. Tests: 'test' = not's one test, 'list' = allof/anyof's test-list. */
  subtests: 'none' | 'test' | 'list';
  /** Commands: true = a block is required (if/elsif/else), false = no block allowed. */
  block: boolean;
  /** One tag of this group must be given (size needs :over or :under, RFC 5228 §5.9). */
  requiredGroup?: string;
}

/** MATCH-TYPE (RFC 5228 §2.7.1), :regex (regex draft), :value / :count (RFC 5231). */
export const MATCH_TYPE_TAGS: Readonly<Record<string, TagSpec>> = {
  is: { group: 'match type' },
  contains: { group: 'match type' },
  matches: { group: 'match type' },
  regex: { group: 'match type', capability: 'regex' },
  value: { group: 'match type', arg: 'string', capability: 'relational' },
  count: { group: 'match type', arg: 'string', capability: 'relational' },
};
/** COMPARATOR (RFC 5228 §2.7.3). */
const COMPARATOR_TAG: Readonly<Record<string, TagSpec>> = { comparator: { arg: 'string' } };
/** ADDRESS-PART (RFC 5228 §2.7.4), :user / :detail (RFC 5233). */
export const ADDRESS_PART_TAGS: Readonly<Record<string, TagSpec>> = {
  all: { group: 'address part' },
  localpart: { group: 'address part' },
  domain: { group: 'address part' },
  user: { group: 'address part', capability: 'subaddress' },
  detail: { group: 'address part', capability: 'subaddress' },
};
const MATCHING = { ...COMPARATOR_TAG, ...MATCH_TYPE_TAGS };
const FLAGS_TAG: Readonly<Record<string, TagSpec>> = { flags: { arg: 'string-list', capability: 'imap4flags' } }; // RFC 5232 §5

/** The modifiers of `set` (RFC 5229 §4; modifiers of equal precedence conflict), shared by extracttext (RFC 5703 §7). */
const SET_MODIFIER_TAGS: Readonly<Record<string, TagSpec>> = {
  lower: { group: 'case modifier (:lower/:upper)' },
  upper: { group: 'case modifier (:lower/:upper)' },
  lowerfirst: { group: 'first-letter modifier (:lowerfirst/:upperfirst)' },
  upperfirst: { group: 'first-letter modifier (:lowerfirst/:upperfirst)' },
  quotewildcard: { group: 'quoting modifier (:quotewildcard/:quoteregex)' },
  quoteregex: { group: 'quoting modifier (:quotewildcard/:quoteregex)', capability: 'regex' },
  length: {},
};

const str = (name: string): PositionalSpec => ({ name, type: 'string' });
const list = (name: string): PositionalSpec => ({ name, type: 'string-list' });

const command = (s: Partial<NodeSpec>): NodeSpec => ({ kind: 'command', tags: {}, positional: [], subtests: 'none', block: false, ...s });
const test = (s: Partial<NodeSpec>): NodeSpec => ({ kind: 'test', tags: {}, positional: [], subtests: 'none', block: false, ...s });
const flagCommand = command({
  capability: ['imap4flags'],
  positional: [list('list of flags')],
  optionalFirst: { spec: str('variable name'), capability: 'variables' },
});

/** :index / :last (RFC 5260 §6) on header, address and date. */
const INDEX_TAGS: Readonly<Record<string, TagSpec>> = { index: { arg: 'number', capability: 'index' }, last: { capability: 'index' } };

export const COMMANDS: Readonly<Record<string, NodeSpec>> = {
  require: command({ positional: [list('capabilities')] }), // RFC 5228 §3.2
  if: command({ subtests: 'test', block: true }), // §3.1
  elsif: command({ subtests: 'test', block: true }),
  else: command({ block: true }),
  stop: command({}), // §3.3
  keep: command({ tags: FLAGS_TAG }), // §4.3
  discard: command({}), // §4.4
  redirect: command({ tags: { copy: { capability: 'copy' } }, positional: [str('address')] }), // §4.2, RFC 3894
  fileinto: command({
    capability: ['fileinto'], // §4.1
    tags: { copy: { capability: 'copy' }, create: { capability: 'mailbox' }, ...FLAGS_TAG },
    positional: [str('mailbox')],
  }),
  set: command({
    capability: ['variables'], // RFC 5229 §4: modifiers of equal precedence conflict
    tags: { ...SET_MODIFIER_TAGS, encodeurl: { capability: 'enotify' } }, // encodeurl: RFC 5435 §6
    positional: [str('name'), str('value')],
  }),
  setflag: flagCommand, // RFC 5232 §3
  addflag: flagCommand,
  removeflag: flagCommand,
  vacation: command({
    capability: ['vacation'], // RFC 5230 §4, RFC 6131
    tags: {
      days: { arg: 'number', group: 'period (:days/:seconds)' },
      seconds: { arg: 'number', group: 'period (:days/:seconds)', capability: 'vacation-seconds' },
      subject: { arg: 'string' },
      from: { arg: 'string' },
      addresses: { arg: 'string-list' },
      mime: {},
      handle: { arg: 'string' },
    },
    positional: [str('reason')],
  }),
  // enotify (RFC 5435 §3; the mailto method, RFC 5436)
  notify: command({
    capability: ['enotify'],
    tags: { from: { arg: 'string' }, importance: { arg: 'string' }, options: { arg: 'string-list' }, message: { arg: 'string' } },
    positional: [str('method')],
  }),
  // mime / foreverypart / extracttext (RFC 5703)
  foreverypart: command({ capability: ['foreverypart'], tags: { name: { arg: 'string' } }, block: true }), // §3.1
  break: command({ capability: ['foreverypart'], tags: { name: { arg: 'string' } } }), // §3.2
  extracttext: command({
    capability: ['extracttext'], // §7: the modifiers of set (RFC 5229 §4), :first
    tags: { ...SET_MODIFIER_TAGS, first: { arg: 'number' } },
    positional: [str('varname')],
  }),
  // ihave (RFC 5463 §5)
  error: command({ capability: ['ihave'], positional: [str('message')] }),
  // editheader (RFC 5293)
  addheader: command({ capability: ['editheader'], tags: { last: {} }, positional: [str('field name'), str('value')] }), // §4
  deleteheader: command({
    capability: ['editheader'], // §5
    tags: { index: { arg: 'number' }, last: {}, ...MATCHING },
    positional: [str('field name')],
    optionalLast: list('value patterns'),
  }),
  // include (RFC 6609): global also needs variables, checked in validate-include.ts (§3.4)
  include: command({
    capability: ['include'], // RFC 6609 §3.2
    tags: {
      personal: { group: 'location (:personal/:global)' },
      global: { group: 'location (:personal/:global)' },
      once: {},
      optional: {},
    },
    positional: [str('script name')],
  }),
  return: command({ capability: ['include'] }), // RFC 6609 §3.3
  global: command({ capability: ['include'], positional: [list('variable names')] }), // RFC 6609 §3.4
};

export const TESTS: Readonly<Record<string, NodeSpec>> = {
  address: test({ tags: { ...MATCHING, ...ADDRESS_PART_TAGS, ...INDEX_TAGS }, positional: [list('header list'), list('key list')] }), // §5.1
  envelope: test({ capability: ['envelope'], tags: { ...MATCHING, ...ADDRESS_PART_TAGS }, positional: [list('envelope part'), list('key list')] }), // §5.4
  header: test({ tags: { ...MATCHING, ...INDEX_TAGS }, positional: [list('header names'), list('key list')] }), // §5.7
  exists: test({ positional: [list('header names')] }), // §5.5
  size: test({ tags: { over: { group: ':over/:under' }, under: { group: ':over/:under' } }, positional: [{ name: 'limit', type: 'number' }], requiredGroup: ':over/:under' }), // §5.9
  allof: test({ subtests: 'list' }), // §5.2
  anyof: test({ subtests: 'list' }), // §5.3
  not: test({ subtests: 'test' }), // §5.8
  true: test({}), // §5.10
  false: test({}), // §5.6
  body: test({
    capability: ['body'], // RFC 5173
    tags: { ...MATCHING, raw: { group: 'body transform' }, content: { arg: 'string-list', group: 'body transform' }, text: { group: 'body transform' } },
    positional: [list('key list')],
  }),
  string: test({ capability: ['variables'], tags: MATCHING, positional: [list('source'), list('key list')] }), // RFC 5229 §5
  hasflag: test({
    capability: ['imap4flags'], // RFC 5232 §4
    tags: MATCHING,
    positional: [list('list of flags')],
    optionalFirst: { spec: list('variable list'), capability: 'variables' },
  }),
  spamtest: test({ capability: ['spamtest'], tags: { ...MATCHING, percent: { capability: 'spamtestplus' } }, positional: [str('value')] }), // RFC 5235
  virustest: test({ capability: ['virustest'], tags: MATCHING, positional: [str('value')] }), // RFC 5235
  duplicate: test({
    capability: ['duplicate'], // RFC 7352 §3
    tags: {
      handle: { arg: 'string' },
      header: { arg: 'string', group: 'message id (:header/:uniqueid)' },
      uniqueid: { arg: 'string', group: 'message id (:header/:uniqueid)' },
      seconds: { arg: 'number' },
      last: {},
    },
  }),
  mailboxexists: test({ capability: ['mailbox'], positional: [list('mailbox names')] }), // RFC 5490 §3.1
  // enotify (RFC 5435 §4, §5)
  valid_notify_method: test({ capability: ['enotify'], positional: [list('notification uris')] }),
  notify_method_capability: test({
    capability: ['enotify'],
    tags: MATCHING,
    positional: [str('notification uri'), str('notification capability'), list('key list')],
  }),
  // date and index (RFC 5260 §4-§6), environment (RFC 5183 §4), ihave (RFC 5463 §4)
  date: test({
    capability: ['date'],
    tags: { ...MATCHING, ...INDEX_TAGS, zone: { arg: 'string', group: 'zone (:zone/:originalzone)' }, originalzone: { group: 'zone (:zone/:originalzone)' } },
    positional: [str('header name'), str('date part'), list('key list')],
  }),
  currentdate: test({ capability: ['date'], tags: { ...MATCHING, zone: { arg: 'string' } }, positional: [str('date part'), list('key list')] }),
  environment: test({ capability: ['environment'], tags: MATCHING, positional: [str('name'), list('key list')] }),
  ihave: test({ capability: ['ihave'], positional: [list('capabilities')] }),
};

// mime (RFC 5703 §4): tags the mime extension adds to tests of RFC 5228, merged by validate.ts
// (extensionTags) so the base entries above stay as they are.
const MIME_OPTION = 'MIME option (:type/:subtype/:contenttype/:param)';
const MIME_PART_TAGS: Readonly<Record<string, TagSpec>> = { mime: { capability: 'mime' }, anychild: { capability: 'mime' } };
/** Extra tags of a test, by test name, each with the capability that enables it. */
export const EXTENSION_TAGS: Readonly<Record<string, Readonly<Record<string, TagSpec>>>> = {
  header: {
    ...MIME_PART_TAGS, // §4.1, §4.2
    type: { group: MIME_OPTION, capability: 'mime' },
    subtype: { group: MIME_OPTION, capability: 'mime' },
    contenttype: { group: MIME_OPTION, capability: 'mime' },
    param: { arg: 'string-list', group: MIME_OPTION, capability: 'mime' },
  },
  address: MIME_PART_TAGS, // §4.3
  exists: MIME_PART_TAGS, // §4.4
};

/** A spec with the extension tags of its test merged in (for validate.ts). */
export function withExtensionTags(name: string, spec: NodeSpec): NodeSpec {
  const extra = Object.hasOwn(EXTENSION_TAGS, name) ? EXTENSION_TAGS[name] : undefined;
  return extra ? { ...spec, tags: { ...spec.tags, ...extra } } : spec;
}

/** The comparators mda knows (RFC 4790 §9); only i;ascii-numeric must be required. */
export const COMPARATORS: ReadonlySet<string> = new Set(['i;octet', 'i;ascii-casemap', 'i;ascii-numeric']);
/** Relational operators (RFC 5231). */
export const RELATIONS: ReadonlySet<string> = new Set(['gt', 'ge', 'lt', 'le', 'eq', 'ne']);
/** Envelope parts RFC 5228 §5.4 defines; others are errors ("SHOULD consider unknown envelope parts an error"). */
export const ENVELOPE_PARTS: ReadonlySet<string> = new Set(['from', 'to']);

/**
 * The headers the address test accepts (RFC 5228 §5.1: "MUST restrict the address test to headers
 * that contain addresses"): RFC 5322 address headers, common non-standard ones (the set Pigeonhole
 * accepts), X-Original-To (Postfix) and Disposition-Notification-To (RFC 8098). Lower case.
 */
export const ADDRESS_HEADERS: ReadonlySet<string> = new Set([
  'from', 'to', 'cc', 'bcc', 'sender', 'resent-from', 'resent-to',
  'reply-to', 'resent-reply-to', 'resent-sender', 'resent-cc', 'resent-bcc',
  'for-approval', 'for-handling', 'for-comment', 'apparently-to', 'errors-to', 'delivered-to',
  'return-receipt-to', 'x-admin', 'read-receipt-to', 'x-confirm-reading-to', 'return-receipt-requested',
  'registered-mail-reply-requested-by', 'mail-followup-to', 'mail-reply-to', 'abuse-reports-to',
  'x-complaints-to', 'x-report-abuse-to', 'x-beenthere', 'x-original-to', 'disposition-notification-to',
]);
