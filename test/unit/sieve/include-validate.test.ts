/**
 * Compile-time rules of the include extension (RFC 6609) and of Pigeonhole-only requires:
 * what `mda sieve check FILE` accepts and refuses, checking one script alone.
 */
import { describe, expect, it } from 'vitest';
import { compileSieve } from '../../../src/sieve/compile.js';

function errs(text: string): string[] {
  const r = compileSieve(text, 't.sieve');
  return 'errors' in r ? r.errors.map((e) => `${e.line}:${e.column} ${e.message}`) : [];
}

describe('include: scripts that compile', () => {
  const OK: Array<[string, string]> = [
    ['RFC 6609 §3.2: include with a name, :personal by default', 'require "include";\ninclude "roundcube";'],
    ['RFC 6609 §3.2: every tag', 'require "include";\ninclude :global :once :optional "spam";\ninclude :personal "x";'],
    ['RFC 6609 §3.3: return', 'require "include";\nif true { return; }'],
    ['RFC 6609 §3.4: global with variables', 'require ["include", "variables"];\nglobal ["a", "b_2"];\nset "a" "1";'],
    ['RFC 6609 §5: the global namespace with set', 'require ["include", "variables"];\nset "global.a" "1";\nif string "${global.a}" "1" { keep; }'],
    ['RFC 6609 §3.2: a missing script is not a compile error (checked alone, as a ManageSieve upload)', 'require "include";\ninclude "does-not-exist";'],
    ['RFC 6609 §3.2: a name with ${...} but no variables extension is a constant', 'require "include";\ninclude "a${b}";'],
  ];
  it.each(OK)('%s', (_t, text) => {
    expect(errs(text)).toEqual([]);
  });
});

describe('include: compile errors', () => {
  const BAD: Array<[string, string, RegExp]> = [
    ['RFC 6609 §3.2: include needs require "include"', 'include "x";', /include command needs require "include"/],
    ['RFC 6609 §3.3: return needs require "include"', 'return;', /return command needs require "include"/],
    ['RFC 6609 §3.2: :personal and :global conflict', 'require "include";\ninclude :personal :global "x";', /conflicts/],
    ['RFC 6609 §3.2: a name with "/" is refused (as Pigeonhole does)', 'require "include";\ninclude "../etc/passwd";', /2:9 .*invalid script name.*"\/"/],
    ['RFC 6609 §3.2: a name built from variables is refused', 'require ["include", "variables"];\nset "n" "x";\ninclude "${n}";', /3:9 .*constant/],
    ['RFC 6609 §3.2 / RFC 5804 §1.6: an empty name', 'require "include";\ninclude "";', /invalid script name/],
    ['RFC 6609 §3.2 / RFC 5804 §1.6: a control character in the name', 'require "include";\ninclude "a\tb";', /invalid script name/],
    ['RFC 6609 §3.2: a string list is not a name', 'require "include";\ninclude ["a", "b"];', /string as argument 1/],
    ['RFC 6609 §3.4: global needs variables', 'require "include";\nglobal "a";', /global command needs require "variables"/],
    ['RFC 6609 §3.4: global needs include', 'require "variables";\nglobal "a";', /global command needs require "include"/],
    ['RFC 6609 §3.4: global names are variable names', 'require ["include", "variables"];\nglobal "1a";', /invalid variable name/],
    ['RFC 6609 §5: the global namespace needs include', 'require "variables";\nset "global.a" "1";', /namespaces are not supported/],
  ];
  it.each(BAD)('%s', (_t, text, want) => {
    const e = errs(text);
    expect(e.length).toBeGreaterThan(0);
    expect(e.join('\n')).toMatch(want);
  });
});

describe('Pigeonhole-only extensions', () => {
  it.each(['vnd.dovecot.pipe', 'vnd.dovecot.execute', 'vnd.dovecot.debug'])('require "%s" names it as Pigeonhole-only', (ext) => {
    const e = errs(`require ["fileinto", "${ext}"];\nkeep;`);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(new RegExp(`^1:22 .*${ext.replace(/\./g, '\\.')}.*Pigeonhole`));
  });
});
