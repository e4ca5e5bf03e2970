/**
 * The test-only hooks the Pigeonhole testsuite harness (test/pigeonhole/) drives:
 * extra command/test specs for the validator and an EvaluatorExtension for the
 * evaluator. Checked here too, so they stay working when the harness is skipped.
 */
import { describe, expect, it } from 'vitest';
import { compileSieve } from '../../../src/sieve/compile.js';
import { evaluateSieve, type EvaluatorExtension } from '../../../src/sieve/evaluate.js';
import { str } from '../../../src/sieve/evaluate-context.js';
import type { ExtraSpecs } from '../../../src/sieve/validate.js';
import { env, message, DEFAULT_MESSAGE } from '../../helpers/sieve.js';

const EXTRA: ExtraSpecs = {
  capabilities: new Set(['x-test']),
  commands: { block_of: { kind: 'command', capability: ['x-test'], tags: {}, positional: [{ name: 'name', type: 'string' }], subtests: 'none', block: true } },
  tests: { always: { kind: 'test', capability: ['x-test'], tags: {}, positional: [], subtests: 'none', block: false } },
};
const SCRIPT = 'require ["x-test", "fileinto"]; block_of "a" { if always { fileinto "Seen"; } }';

describe('test-only extension hooks', () => {
  it('without extra specs the validator refuses the capability and the commands', () => {
    const r = compileSieve(SCRIPT, 's.sieve');
    expect('errors' in r && r.errors.map((e) => e.message).join('\n')).toMatch(/unsupported capability "x-test"/);
  });

  it('with extra specs it compiles, and the extension runs the block and answers the test', () => {
    const r = compileSieve(SCRIPT, 's.sieve', { extraSpecs: EXTRA });
    if ('errors' in r) throw new Error(r.errors.map((e) => e.message).join('\n'));
    const seen: string[] = [];
    const extension: EvaluatorExtension = {
      command(ctx, c, runBlock) {
        if (c.name !== 'block_of') return false;
        seen.push(str(ctx, c.positional[0]));
        runBlock(c.block ?? []);
        return true;
      },
      test: (_ctx, t) => (t.name === 'always' ? true : undefined),
    };
    const plan = evaluateSieve([r.script], message(DEFAULT_MESSAGE), env(), { extension });
    expect(seen).toEqual(['a']);
    expect(plan.errors).toEqual([]);
    expect(plan.fileinto.map((f) => f.mailbox)).toEqual(['Seen']);
  });

  it('a compiled extension command without the extension at run time is a runtime error (implicit keep)', () => {
    const r = compileSieve(SCRIPT, 's.sieve', { extraSpecs: EXTRA });
    if ('errors' in r) throw new Error('compile');
    const plan = evaluateSieve([r.script], message(DEFAULT_MESSAGE), env());
    expect(plan.errors.join()).toMatch(/unknown command/);
    expect(plan.keep?.implicit).toBe(true);
  });
});
