import { it } from 'vitest';
import { readFileSync } from 'node:fs';
import { run } from '../helpers/sieve.js';
it('x', () => {
  const msg = readFileSync('/tmp/suite2-scratch/msg.eml', 'utf8');
  const p = run(readFileSync('/tmp/suite2-scratch/s.sieve', 'utf8'), msg);
  console.log(JSON.stringify(p.trace, null, 1), p.errors);
});
