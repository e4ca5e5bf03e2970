import { describe, expect, it } from 'vitest';
import { addressPartOf, bodyTransformOf, hasTag, matchSpecOf, numberArg, stringArg, stringListArg } from '../../../src/sieve/args.js';
import type { CommandNode, Script, TestNode } from '../../../src/sieve/ast.js';
import { compileSieve } from '../../../src/sieve/compile.js';
import type { RegexCompiler } from '../../../src/sieve/validate.js';

function compile(text: string, compileRegex?: RegexCompiler): Script {
  const r = compileSieve(text, 't.sieve', { compileRegex });
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return r.script;
}

function errs(text: string): string[] {
  const r = compileSieve(text, 't.sieve');
  return 'errors' in r ? r.errors.map((e) => `${e.line}:${e.column} ${e.message}`) : [];
}

/** The commands of a script, depth first (blocks included). */
function allCommands(cmds: CommandNode[]): CommandNode[] {
  return cmds.flatMap((c) => [c, ...allCommands(c.block ?? [])]);
}

const RFC5228 = {
  '§2.3 comments': 'if size :over 100K { /* this is a comment\n   this is still a comment */ discard /* this is a comment\n   */ ;\n}',
  '§2.4.2.4 encoded-character': 'require "encoded-character";\nif header :contains "Subject" "$${hex:24 24}" {\n   discard;\n}',
  '§2.5.1 test lists': 'if anyof (not exists ["From", "Date"],\n    header :contains "from" "fool@example.com") {\n   discard;\n}',
  '§2.7.3 comparator': 'if header :contains :comparator "i;octet" "Subject"\n      "MAKE MONEY FAST" {\n   discard;\n}',
  '§3.1 if/elsif/else': 'require "fileinto";\nif header :contains "from" "coyote" {\n   discard;\n} elsif header :contains ["subject"] ["$$$"] {\n   discard;\n} else {\n   fileinto "INBOX";\n}',
  '§3.1 redirect chain':
    'if header :contains ["From"] ["coyote"] {\n   redirect "acm@example.com";\n} elsif header :contains "Subject" "$$$" {\n   redirect "postmaster@example.com";\n} else {\n   redirect "field@example.com";\n}',
  '§3.2 require': 'require "fileinto";\nrequire "vacation";',
  '§4.1 fileinto': 'require "fileinto";\nif header :contains ["from"] "coyote" {\n   fileinto "INBOX.harassment";\n}',
  '§4.2 redirect': 'redirect "bart@example.com";',
  '§4.3 keep': 'if size :under 1M { keep; } else { discard; }',
  '§4.3 keep (negated)': 'if not size :under 1M { discard; }',
  '§4.4 discard': 'if header :contains ["from"] ["idiot@example.com"] {\n   discard;\n}',
  '§5.1 address': 'if address :is :all "from" "tim@example.com" {\n   discard;\n}',
  '§5.4 envelope': 'require "envelope";\nif envelope :all :is "from" "tim@example.com" {\n   discard;\n}',
  '§5.5 exists': 'if not exists ["From","Date"] {\n   discard;\n}',
  '§5.7 header': 'if not header :matches "Cc" "?*" { keep; }\nif header :is ["X-Caffeine"] [""] { keep; }',
  '§9 extended example': `#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
`,
};

const EXTENSIONS = {
  'variables (RFC 5229)': `require ["variables", "fileinto"];
set "honorific" "Mr";
set "vacation" text:
Dear \${HONORIFIC} \${last_name},
I'm out, please leave a message after the meep.
.
;
set "a" "juMBlEd lETteRS";
set :length "b" "\${a}";
set :upperfirst :lower "b" "\${a}";
set :quotewildcard "b" "Rock*";
if header :matches "List-ID" "*<*@*" { fileinto "INBOX.lists.\${2}"; stop; }
if string :matches " \${state} " "* pending *" { keep; }`,
  'vacation (RFC 5230)': `require "vacation";
if header :contains "subject" "cyrus" {
    vacation "I'm out -- send mail to cyrus-bugs";
} else {
    vacation :days 23 :addresses ["tjs@example.edu", "ts4z@landru.example.edu"]
      "I'm away until October 19.";
}
vacation :days 7 :from "hemingway@example.com" :subject "gone fishing" :handle "ran-away" :mime text:
Content-Type: text/plain

I'm away.
.
;`,
  'vacation-seconds (RFC 6131)': 'require "vacation-seconds";\nvacation :seconds 1800 "back soon";',
  'relational (RFC 5231)': `require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "lt" :comparator "i;ascii-numeric" ["x-priority"] ["3"] { keep; }
if header :count "ge" :comparator "i;ascii-numeric" ["received"] ["3"] { discard; }
if allof (address :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] ["1"],
          address :all :comparator "i;ascii-casemap" ["to", "cc"] ["me@foo.example.com"]) {
  fileinto "me";
}`,
  'imap4flags (RFC 5232)': `require ["fileinto", "imap4flags", "variables"];
if size :over 1M {
  addflag "MyFlags" "Big";
  if header :is "From" "boss@company.example.com" { addflag "MyFlags" "\\\\Flagged"; }
  fileinto :flags "\${MyFlags}" "GrabBag";
} else {
  setflag ["\\\\Seen", "\\\\Answered"];
  removeflag "\\\\Seen";
  keep :flags "\\\\Deleted";
}
if hasflag :contains "MyVar" "Junk" { discard; }
if hasflag :is "\\\\Seen" { stop; }`,
  'subaddress (RFC 5233)': `require ["envelope", "subaddress", "fileinto"];
if envelope :user "to" "postmaster" { fileinto "inbox.postmaster"; stop; }
if envelope :detail :is "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; stop; }
if address :detail "to" "" { keep; }`,
  'body (RFC 5173)': `require ["body", "fileinto"];
if body :raw :contains "MAKE MONEY FAST" { discard; }
if body :content "application/msword" :contains "Sieve" { fileinto "msft"; }
if body :content ["text/html", "text"] :matches "*x*" { keep; }
if body :text :contains "x" { keep; }
if body "x" { keep; }`,
  'copy (RFC 3894)': 'require ["copy", "fileinto"];\nfileinto :copy "incoming";\nredirect :copy "bob@example.org";',
  'mailbox (RFC 5490)': 'require ["fileinto", "mailbox"];\nif mailboxexists "Partners" { fileinto "Partners"; }\nfileinto :create "Partners";',
  'spamtest (RFC 5235)': `require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3" { fileinto "INBOX.spam-trap"; }`,
  'spamtestplus (RFC 5235)': `require ["spamtestplus", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "50" { fileinto "INBOX.spam-trap"; }`,
  'virustest (RFC 5235)': `require ["virustest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if virustest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
elsif virustest :value "eq" :comparator "i;ascii-numeric" "5" { discard; }`,
  'duplicate (RFC 7352)': `require ["duplicate", "variables", "imap4flags", "fileinto", "mailbox"];
if duplicate { fileinto :create "Trash/Duplicate"; }
if header :matches "subject" "ALERT: *" {
  if duplicate :seconds 60 :uniqueid "\${1}" { setflag "\\\\seen"; }
  fileinto "Alerts";
}
if duplicate :handle "notify" :header "from" :last { stop; }`,
  regex: String.raw`require ["regex", "variables", "fileinto"];
if header :regex "subject" "^\\[([^]]*)\\]" { fileinto "lists.${1}"; }
if address :regex :localpart :comparator "i;octet" "to" "^([a-z]+)[+](.*)$" { keep; }
set :quoteregex "x" "a.b";`,
  'comparator capabilities may be required': 'require ["comparator-i;octet", "comparator-i;ascii-casemap"];\nkeep;',
  'identifiers and tags are case-insensitive': 'IF Header :IS "a" "b" { KEEP; } ELSIF TRUE { Stop; }',
  'an empty script': '',
};

describe('valid scripts compile', () => {
  it.each(Object.entries(RFC5228))('RFC 5228 %s', (_name, text) => {
    expect(errs(text)).toEqual([]);
  });
  it.each(Object.entries(EXTENSIONS))('%s', (_name, text) => {
    expect(errs(text)).toEqual([]);
  });
});

/** [name, script, [["line:column", message fragment], ...]] */
const INVALID: Array<[string, string, Array<[string, string]>]> = [
  // require (RFC 5228 §3.2, §2.10.5)
  ['require: two arguments', 'require "fileinto" "vacation";', [['1:20', 'the require command takes 1 positional argument (capabilities), but 2 were given']]],
  ['require: no argument', 'require;', [['1:1', 'the require command needs 1 positional argument (capabilities), but 0 were given']]],
  ['require: a number', 'require 45;', [['1:9', 'needs a string list as argument 1 (capabilities), found number 45']]],
  ['require: unknown capabilities', 'require ["_frop", "_friep"];', [['1:10', 'unsupported capability "_frop"'], ['1:19', 'unsupported capability "_friep"']]],
  ['require: capabilities are case-sensitive', 'require "FILEINTO";', [['1:9', 'unsupported capability "FILEINTO"']]],
  ['require: an extension mda lacks', 'require "x-unknown";', [['1:9', 'unsupported capability "x-unknown": mda supports fileinto, envelope']]],
  ['require: reject', 'require "reject";', [['1:9', 'reject is not supported: mda never bounces a message after Postfix has accepted it']]],
  ['require: ereject', 'require ["fileinto", "ereject"];', [['1:22', 'ereject is not supported: mda never bounces']]],
  ['require: a block', 'require "fileinto" {\n  keep;\n}', [['1:1', 'the require command takes no block']]],
  ['require: a test', 'require "fileinto" true;', [['1:20', "expected ';' after the require command, found 'true'"]]],
  ['require: nested', 'if true {\n  require "fileinto";\n}', [['2:3', 'require is only allowed at the top of the script']]],
  ['require: after a command', 'keep;\nrequire "copy";', [['2:1', 'require must come before any other command']]],
  // commands
  ['unknown command', 'keep;\n  frop;', [['2:3', "unknown command 'frop'"]]],
  ['a test used as a command', 'size :under 23;', [['1:1', 'size is a test, not a command']]],
  ['reject as a command', 'reject "go away";', [['1:1', 'reject is not supported: mda never bounces']]],
  ['ereject as a command', 'ereject "go away";', [['1:1', 'ereject is not supported']]],
  ['an extension command without require', 'fileinto "x";', [['1:1', 'the fileinto command needs require "fileinto"']]],
  ['stop with an argument', 'stop "x";', [['1:6', 'the stop command takes no positional arguments, but 1 was given']]],
  ['keep with an argument', 'keep "frop";', [['1:6', 'the keep command takes no positional arguments, but 1 was given']]],
  ['discard with a tag', 'discard :copy;', [['1:9', 'unknown tag :copy for the discard command']]],
  ['keep with a test', 'keep true;', [['1:6', "expected ';' after the keep command, found 'true'"]]],
  ['a missing semicolon', 'require "fileinto";\nfileinto "frop"\nkeep;', [['3:1', "expected ';' after the fileinto command, found 'keep'"]]],
  ['discard with a block', 'discard {}', [['1:1', 'the discard command takes no block']]],
  ['if without a block', 'if true;', [['1:1', 'if needs a block { ... }']]],
  ['if without a test', 'if {\n  keep;\n}', [['1:1', 'if needs a test before its block']]],
  ['if with a test list', 'if ( false, false, true ) {\n  keep;\n}', [['1:4', 'if takes one test, not a test list']]],
  ['else without if', 'keep;\nelse {\n  keep;\n}', [['2:1', 'else must follow if or elsif']]],
  ['elsif after else', 'if true { keep; } else { stop; } elsif true { stop; }', [['1:34', 'elsif must follow if or elsif']]],
  ['an if-less chain is one error', 'elsif true {\n  keep;\n}\nelsif true {\n}\nelse {\n}', [['1:1', 'elsif must follow if or elsif']]],
  ['else if', 'if true {\n  stop;\n} else if false {\n  keep;\n}', [['3:8', "'else if' is not Sieve: write elsif"]]],
  ['if as a test', 'if if true {\n}', [['1:4', 'if is a command, not a test']]],
  ['a string list where a string belongs', 'require "fileinto";\nfileinto ["x"];', [['2:10', 'the fileinto command needs a string as argument 1 (mailbox), found a string list']]],
  ['redirect to a non-address', 'redirect "frop";', [['1:10', 'the redirect address "frop" is not a valid address: it has no @domain']]],
  ['redirect to an empty address', 'redirect "";', [['1:10', 'is not a valid address: it is empty']]],
  ['redirect :copy without require', 'redirect :copy "a@b.c";', [['1:10', 'tag :copy of the redirect command needs require "copy"']]],
  // tests and their arguments
  ['unknown test', 'if frop {\n}', [['1:4', "unknown test 'frop'"]]],
  ['unknown tag', 'if address :nonsense :localpart "From" "nico" {\n}', [['1:12', 'unknown tag :nonsense for the address test']]],
  ['unknown tag on true', 'if true :comparator "i;ascii-numeric" {\n}', [['1:9', 'unknown tag :comparator for the true test']]],
  ['a number where a string list belongs', 'if address :is 45 "nico" {\n}', [['1:16', 'the address test needs a string list as argument 1 (header list), found number 45']]],
  ['a missing key list', 'if address :is "From" {\n}', [['1:4', 'the address test needs 2 positional arguments (header list, key list), but 1 was given']]],
  ['no positional arguments', 'if address :localpart {\n}', [['1:4', 'but 0 were given']]],
  ['a tag as a tag argument', 'if address :comparator :all "from" "frop" { }', [['1:12', 'tag :comparator needs a string after it, found tag :all']]],
  ['a number as a tag argument', 'if address :comparator 1 "from" "frop" { }', [['1:24', 'tag :comparator needs a string, found number 1']]],
  ['a list as a tag argument', 'if address :comparator ["a", "b"] "from" "frop" { }', [['1:24', 'tag :comparator needs a string, found a string list']]],
  ['a missing tag colon', 'if address matches "from" "*frop*" {\n  stop;\n}', [['1:4', 'needs 2 positional arguments'], ['1:12', "missing ':' before 'matches': write :matches"]]],
  ['address on a non-address header', 'if address :is ["to", "frop"] "x" {\n}', [['1:23', 'the address test only reads headers that hold addresses, and "frop" is not one']]],
  [':user without subaddress', 'if address :user "to" "x" {\n}', [['1:12', 'tag :user of the address test needs require "subaddress"']]],
  ['two address parts', 'if address :all :localpart "from" "x" {\n}', [['1:17', 'tag :localpart conflicts with :all: only one address part is allowed']]],
  ['two match types', 'if header :is :contains "a" "b" {\n}', [['1:15', 'tag :contains conflicts with :is: only one match type is allowed']]],
  ['a repeated tag', 'if header :is :is "a" "b" {\n}', [['1:15', 'tag :is is given twice']]],
  ['a sub-test where none belongs', 'if header "a" "b" true {\n}', [['1:19', "the header test takes no test, found 'true'"]]],
  ['an unknown comparator', 'if header :comparator "i;frop" "a" "b" {\n}', [['1:23', 'unknown comparator "i;frop"']]],
  ['a comparator that was not required', 'if header :comparator "i;ascii-numeric" "a" "b" {\n}', [['1:23', 'the comparator i;ascii-numeric needs require "comparator-i;ascii-numeric"']]],
  [':contains with i;ascii-numeric', 'require "comparator-i;ascii-numeric";\nif header :contains :comparator "i;ascii-numeric" "from" "x" {\n}', [['2:11', ':contains cannot be used with the i;ascii-numeric comparator']]],
  ['a bad relational operator', 'require "relational";\nif header :value "gtx" "a" "b" {\n}', [['2:18', ':value needs a relational operator, one of "gt", "ge", "lt", "le", "eq", "ne"; found "gtx"']]],
  [':value without relational', 'if header :value "gt" "a" "b" {\n}', [['1:11', 'tag :value of the header test needs require "relational"']]],
  ['size: conflicting tags', 'if size :under :over 34 {\n}', [['1:16', 'tag :over conflicts with :under']]],
  ['size: a repeated tag', 'if size :over :over 45M {\n}', [['1:15', 'tag :over is given twice']]],
  ['size: tag after the limit', 'if size 34M :over {\n}', [['1:13', 'tag :over must come before the positional arguments of the size test']]],
  ['size: neither :over nor :under', 'if size 45 {\n}', [['1:4', 'the size test needs one of :over/:under']]],
  ['size: a string limit', 'if size :over "1" {\n}', [['1:15', 'the size test needs a number as argument 1 (limit), found a string']]],
  ['exists without header names', 'if exists {\n}', [['1:4', 'the exists test needs 1 positional argument (header names), but 0 were given']]],
  ['not with a test list', 'if not (true) {\n}', [['1:8', 'not takes one test, not a test list']]],
  ['not without a test', 'if not {\n}', [['1:4', 'not needs a test']]],
  ['allof without parentheses', 'if allof true {\n}', [['1:10', 'allof needs its tests in parentheses']]],
  ['anyof without tests', 'if anyof {\n}', [['1:4', 'anyof needs a test list']]],
  ['an extension test without require', 'if envelope "from" "x" {\n}', [['1:4', 'the envelope test needs require "envelope"']]],
  ['an unknown envelope part', 'require "envelope";\nif envelope "frop" "x" {\n}', [['2:13', 'unknown envelope part "frop"']]],
  ['an invalid regex', 'require "regex";\nif header :regex "subject" ["ok", "("] {\n}', [['2:35', 'invalid regular expression "("']]],
  [':regex with i;ascii-numeric', 'require ["regex", "comparator-i;ascii-numeric"];\nif header :regex :comparator "i;ascii-numeric" "a" "b" {\n}', [['2:11', ':regex cannot be used with the i;ascii-numeric comparator']]],
  ['body: two transforms', 'require "body";\nif body :raw :text "x" {\n}', [['2:14', 'tag :text conflicts with :raw: only one body transform is allowed']]],
  ['body: :content takes the key as its argument', 'require "body";\nif body :content "x" {\n}', [['2:4', 'the body test needs 1 positional argument (key list), but 0 were given']]],
  ['mailboxexists without require', 'if mailboxexists "a" {\n}', [['1:4', 'the mailboxexists test needs require "mailbox"']]],
  ['duplicate: :header and :uniqueid', 'require "duplicate";\nif duplicate :header "a" :uniqueid "b" {\n}', [['2:26', 'tag :uniqueid conflicts with :header']]],
  ['duplicate: no :days in RFC 7352', 'require "duplicate";\nif duplicate :days 1 {\n}', [['2:14', 'unknown tag :days for the duplicate test']]],
  ['spamtest :percent without spamtestplus', 'require "spamtest";\nif spamtest :percent "1" {\n}', [['2:13', 'tag :percent of the spamtest test needs require "spamtestplus"']]],
  // variables (RFC 5229)
  ['set: a match variable', 'require "variables";\nset "1" "x";', [['2:5', 'cannot assign to the match variable ${1}']]],
  ['set: a namespace', 'require "variables";\nset "a.b" "x";', [['2:5', 'variable namespaces are not supported: "a.b"']]],
  ['set: an invalid name', 'require "variables";\nset "a-b" "x";', [['2:5', 'invalid variable name "a-b"']]],
  ['set: conflicting modifiers', 'require "variables";\nset :lower :upper "a" "b";', [['2:12', 'tag :upper conflicts with :lower: only one case modifier (:lower/:upper) is allowed']]],
  ['set: :quoteregex without regex', 'require "variables";\nset :quoteregex "a" "b";', [['2:5', 'tag :quoteregex of the set command needs require "regex"']]],
  ['set: a missing value', 'require "variables";\nset "a";', [['2:1', 'the set command needs 2 positional arguments (name, value), but 1 was given']]],
  ['set without variables', 'set "a" "b";', [['1:1', 'the set command needs require "variables"']]],
  // imap4flags (RFC 5232)
  ['setflag: a variable name without variables', 'require "imap4flags";\nsetflag "v" "x";', [['2:9', 'the setflag command takes a variable name only with require "variables"']]],
  ['hasflag: a variable list without variables', 'require "imap4flags";\nif hasflag "v" "x" {\n}', [['2:12', 'the hasflag test takes a variable list only with require "variables"']]],
  ['setflag into a match variable', 'require ["imap4flags", "variables"];\nsetflag "1" "x";', [['2:9', 'cannot assign to the match variable ${1}']]],
  [':flags without its list', 'require "imap4flags";\nkeep :flags;', [['2:6', 'tag :flags needs a string list after it, found nothing']]],
  ['keep :flags without imap4flags', 'keep :flags "x";', [['1:6', 'tag :flags of the keep command needs require "imap4flags"']]],
  // vacation (RFC 5230, RFC 6131)
  [':seconds without vacation-seconds', 'require "vacation";\nvacation :seconds 10 "x";', [['2:10', 'tag :seconds of the vacation command needs require "vacation-seconds"']]],
  [':days and :seconds', 'require "vacation-seconds";\nvacation :days 1 :seconds 10 "x";', [['2:18', 'tag :seconds conflicts with :days']]],
  [':days with a string', 'require "vacation";\nvacation :days "x" "y";', [['2:16', 'tag :days needs a number, found a string']]],
  ['a bad :from address', 'require "vacation";\nvacation :from "not an address" "r";', [['2:16', 'the vacation :from address "not an address" is not a valid address']]],
  ['vacation without a reason', 'require "vacation";\nvacation :subject "x";', [['2:1', 'the vacation command needs 1 positional argument (reason), but 0 were given']]],
  // encoded-character (RFC 5228 §2.4.2.4)
  ['an invalid unicode character', 'require ["encoded-character", "fileinto"];\nfileinto\n  "INBOX.${unicode:200000}";', [['3:3', 'invalid Unicode character U+200000']]],
];

describe('compile errors: every class, with its exact line:column', () => {
  it.each(INVALID)('%s', (_name, text, want) => {
    const got = errs(text);
    expect(got.map((g) => g.slice(0, g.indexOf(' '))), got.join('\n')).toEqual(want.map(([pos]) => pos));
    want.forEach(([, fragment], k) => expect(got[k]).toContain(fragment));
  });

  it('sorts errors by position and stops at 10', () => {
    const text = Array.from({ length: 15 }, (_, k) => `frop${k};`).join('\n');
    const got = errs(text);
    expect(got).toHaveLength(10);
    expect(got[0]).toBe("1:1 unknown command 'frop0'");
    expect(got[9]).toBe("10:1 unknown command 'frop9'");
  });

  it('does not mistake Object.prototype names for commands or tags', () => {
    expect(errs('constructor;\nif header :tostring "a" "b" {}')).toEqual(["1:1 unknown command 'constructor'", '2:11 unknown tag :tostring for the header test']);
  });

  it('leaves strings with variables to run time', () => {
    expect(errs('require ["variables", "envelope", "regex"];\nif address "${h}" "x" {}\nif envelope "${p}" "x" {}\nif header :regex "a" "${x}(" {}\nredirect "${to}";')).toEqual([]);
  });
});

describe('what the evaluator reads', () => {
  const first = (text: string): CommandNode => compile(text).commands.find((c) => c.name !== 'require')!;
  const testOf = (text: string): TestNode => first(text).test!;

  it('fills tags (argument, or true) and positional', () => {
    const c = first('require ["fileinto", "copy", "imap4flags"];\nfileinto :copy :flags ["\\\\Seen", "$Label1"] "Lists.Debian";');
    expect(Object.keys(c.tags)).toEqual(['copy', 'flags']);
    expect(c.tags.copy).toBe(true);
    expect(stringListArg(c.tags.flags)).toEqual(['\\Seen', '$Label1']);
    expect(c.positional.map(stringArg)).toEqual(['Lists.Debian']);
    expect(hasTag(c, 'create')).toBe(false);
  });

  it('fills every node, tests included', () => {
    const s = compile('if anyof (not size :over 10K, exists "X") { keep; }');
    const any = s.commands[0]!.test!;
    expect(any.tests.map((t) => t.name)).toEqual(['not', 'exists']);
    const size = any.tests[0]!.tests[0]!;
    expect(size.tags).toEqual({ over: true });
    expect(numberArg(size.positional[0])).toBe(10240);
    expect(stringListArg(any.tests[1]!.positional[0])).toEqual(['X']);
  });

  it.each([
    ['if header "a" "b" {}', { type: 'is', comparator: 'i;ascii-casemap' }],
    ['if header :contains :comparator "I;OCTET" "a" "b" {}', { type: 'contains', comparator: 'i;octet' }],
    ['require "relational";\nif header :value "GE" "a" "b" {}', { type: 'value', relation: 'ge', comparator: 'i;ascii-casemap' }],
    ['require ["relational", "comparator-i;ascii-numeric"];\nif header :count "lt" :comparator "i;ascii-numeric" "a" "1" {}', { type: 'count', relation: 'lt', comparator: 'i;ascii-numeric' }],
    ['require "regex";\nif header :regex "a" "b" {}', { type: 'regex', comparator: 'i;ascii-casemap' }],
  ])('matchSpecOf: %s', (text, spec) => {
    expect(matchSpecOf(testOf(text))).toEqual(spec);
  });

  it.each([
    ['if address "from" "x" {}', 'all'],
    ['if address :domain "from" "x" {}', 'domain'],
    ['require ["envelope", "subaddress"];\nif envelope :detail "to" "x" {}', 'detail'],
  ])('addressPartOf: %s', (text, part) => {
    expect(addressPartOf(testOf(text))).toBe(part);
  });

  it.each([
    ['require "body";\nif body "x" {}', { kind: 'text' }],
    ['require "body";\nif body :raw "x" {}', { kind: 'raw' }],
    ['require "body";\nif body :content ["text/plain", "text/html"] "x" {}', { kind: 'content', types: ['text/plain', 'text/html'] }],
  ])('bodyTransformOf: %s', (text, transform) => {
    expect(bodyTransformOf(testOf(text))).toEqual(transform);
  });

  it('sets the capabilities, with the ones they imply', () => {
    const s = compile('require ["vacation-seconds", "spamtestplus"];\nrequire "fileinto";');
    expect([...s.capabilities].sort()).toEqual(['fileinto', 'spamtest', 'spamtestplus', 'vacation', 'vacation-seconds']);
  });

  it('decodes encoded characters in every string but require\'s', () => {
    const s = compile('require ["encoded-character", "fileinto", "imap4flags"];\nfileinto :flags ["${hex:5C}Seen"] "${unicode:48}i ${hex:C3 A9}";');
    const c = allCommands(s.commands)[1]!;
    expect(stringListArg(c.tags.flags)).toEqual(['\\Seen']);
    expect(stringArg(c.positional[0])).toBe('Hi é');
  });

  it('leaves ${hex:..} alone without require "encoded-character"', () => {
    expect(stringArg(first('require "fileinto";\nfileinto "${hex:41}";').positional[0])).toBe('${hex:41}');
  });

  it('checks regex keys with the compiler it is given, case-insensitively unless i;octet', () => {
    const calls: Array<[string, boolean]> = [];
    const spy: RegexCompiler = (p, ci) => {
      calls.push([p, ci]);
      return p === 'bad' ? { ok: false, why: 'no good' } : { ok: true };
    };
    compile('require "regex";\nif header :regex "a" ["x", "y"] {}\nif header :regex :comparator "i;octet" "a" "z" {}', spy);
    expect(calls).toEqual([['x', true], ['y', true], ['z', false]]);
    const r = compileSieve('require "regex";\nif address :regex "to" "bad" {}', 't', { compileRegex: spy });
    expect('errors' in r && r.errors[0]).toMatchObject({ line: 2, column: 24, message: 'invalid regular expression "bad": no good' });
  });
});
