import { describe, expect, it } from 'vitest';
import { decodeCache, encodeCache, CACHE_FORMAT, type CacheKey } from '../../../src/sieve/script-cache.js';
import { evaluateSieve } from '../../../src/sieve/evaluate.js';
import { compile, env, message, DEFAULT_MESSAGE } from '../../helpers/sieve.js';

const KEY: CacheKey = { script: '10:1:2:3', build: '99:5', maxScriptSize: 1024 };
const TEXT = 'require ["fileinto", "imap4flags"];\nif header :contains "subject" "hello" { addflag "\\\\Seen"; fileinto "Greetings"; }';

describe('script cache', () => {
  it('round-trips a validated script: same plan from the cache as from the compiler', () => {
    const script = compile(TEXT, '/home/bob/.mda/filter.sieve');
    const back = decodeCache(encodeCache(script, KEY), KEY)!;
    expect(back.source).toBe('/home/bob/.mda/filter.sieve');
    expect([...back.capabilities]).toEqual([...script.capabilities]);
    expect(evaluateSieve([back], message(DEFAULT_MESSAGE), env())).toEqual(evaluateSieve([script], message(DEFAULT_MESSAGE), env()));
  });

  it.each<[string, (s: string) => string]>([
    ['another script identity', (s) => s.replace('10:1:2:3', '11:1:2:3')],
    ['another build', (s) => s.replace('99:5', '99:6')],
    ['another size limit', (s) => s.replace('"maxScriptSize":1024', '"maxScriptSize":2048')],
    ['another format', (s) => s.replace(`"format":${CACHE_FORMAT}`, '"format":0')],
    ['truncated', (s) => s.slice(0, s.length / 2)],
    ['not an object', () => 'null'],
    ['commands not a list', (s) => s.replace('"commands":[', '"commands":{"x":[').replace(/]}$/, ']}}')],
    ['capabilities not strings', (s) => s.replace('"capabilities":["fileinto"', '"capabilities":[1')],
  ])('a miss on %s', (_, mutate) => {
    const text = mutate(encodeCache(compile(TEXT), KEY));
    expect(decodeCache(text, KEY)).toBeUndefined();
  });
});
