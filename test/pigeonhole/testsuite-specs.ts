/**
 * The spec table of Pigeonhole's `vnd.dovecot.testsuite` commands and tests
 * (src/testsuite/*.c of Pigeonhole 0.5), for validate.ts's test-only extraSpecs.
 * Data only; testsuite-extension.ts runs them. Must not: go into src/sieve/specs.ts
 * (delivery never accepts vnd.dovecot.testsuite).
 */
import { MATCH_TYPE_TAGS, type NodeSpec, type PositionalSpec, type TagSpec } from '../../src/sieve/specs.js';
import type { ExtraSpecs } from '../../src/sieve/validate.js';

export const TESTSUITE_CAPABILITY = 'vnd.dovecot.testsuite';
const capability = [TESTSUITE_CAPABILITY];

const str = (name: string): PositionalSpec => ({ name, type: 'string' });
const list = (name: string): PositionalSpec => ({ name, type: 'string-list' });
const num = (name: string): PositionalSpec => ({ name, type: 'number' });
const command = (s: Partial<NodeSpec>): NodeSpec => ({ kind: 'command', capability, tags: {}, positional: [], subtests: 'none', block: false, ...s });
const test = (s: Partial<NodeSpec>): NodeSpec => ({ kind: 'test', capability, tags: {}, positional: [], subtests: 'none', block: false, ...s });

const MATCHING: Record<string, TagSpec> = { comparator: { arg: 'string' }, ...MATCH_TYPE_TAGS, index: { arg: 'number' } };
const MESSAGE_SOURCE: Record<string, TagSpec> = { smtp: { group: 'message source' }, folder: { arg: 'string', group: 'message source' } };

export const TESTSUITE_COMMANDS: Record<string, NodeSpec> = {
  test: command({ positional: [str('test name')], block: true }),
  test_fail: command({ positional: [str('reason')] }),
  test_set: command({ positional: [str('object'), str('value')] }),
  test_message: command({ tags: MESSAGE_SOURCE, positional: [num('index')], requiredGroup: 'message source' }),
  test_result_reset: command({}),
  test_result_print: command({}),
  test_mailbox_create: command({ positional: [str('mailbox')] }),
  test_config_set: command({ positional: [str('setting'), str('value')] }),
  test_config_unset: command({ positional: [str('setting')] }),
  test_config_reload: command({ tags: { extension: { arg: 'string' } } }),
  test_binary_save: command({ positional: [str('name')] }),
  test_binary_load: command({ positional: [str('name')] }),
};

export const TESTSUITE_TESTS: Record<string, NodeSpec> = {
  test_message: test({ tags: MESSAGE_SOURCE, positional: [num('index')], requiredGroup: 'message source' }),
  test_script_compile: test({ positional: [str('script path')] }),
  test_script_run: test({ tags: { append_result: {} } }),
  test_multiscript: test({ positional: [list('script paths')] }),
  test_error: test({ tags: MATCHING, positional: [list('key list')] }),
  test_result_action: test({ tags: MATCHING, positional: [list('key list')] }),
  test_result_execute: test({}),
};

export const TESTSUITE_SPECS: ExtraSpecs = {
  capabilities: new Set([TESTSUITE_CAPABILITY]),
  commands: TESTSUITE_COMMANDS,
  tests: TESTSUITE_TESTS,
};

/** Every testsuite command or test name this harness implements (the rest make a file fail). */
export const IMPLEMENTED = new Set([...Object.keys(TESTSUITE_COMMANDS), ...Object.keys(TESTSUITE_TESTS)]);
