/**
 * Hostile input, as properties (fast-check). Arbitrary bytes, with and without
 * a From_ line, CRLF/LF mixes and NULs: many runs through the pure pieces
 * in-process (HeadSplitter under random chunking against a whole-input model,
 * parseHeaders, envelope, early checks, insertPoint), and a few through the
 * real `bin/mda deliver`, because spawning costs ~100 ms a run.
 * Replay a failure with MDA_FC_SEED=<seed> (fast-check prints it); soak with
 * MDA_FC_SCALE=<n>, which multiplies every run count.
 */
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadSplitter, MAX_HEAD_KEPT } from '../../src/message/head-splitter.js';
import { angleAddress, parseHeaders } from '../../src/message/headers.js';
import { insertPoint } from '../../src/message/insert-point.js';
import { earlyChecks } from '../../src/pipeline/early-checks.js';
import { buildEnvelope } from '../../src/pipeline/envelope.js';
import { QUIET_CONFIG, listDir, runMda, tempDir } from '../helpers/run-mda.js';

const seed = process.env.MDA_FC_SEED ? Number(process.env.MDA_FC_SEED) : undefined;
const SCALE = Math.max(1, Number(process.env.MDA_FC_SCALE ?? 1) || 1);
const runs = (n: number): number => n * SCALE;
const FROM_ = 'From alice@sender.test  Sat Nov 21 23:21:04 2026';

/** Pieces that make mail-shaped trouble more likely than uniform bytes do. */
const TOKENS = [
  '\n', '\r\n', '\r', '\n\n', '\r\n\r\n', '\0', ' ', '\t', ':', 'From ', 'From', 'X-A: v', 'Subject: s',
  'Return-Path: <r@x>', 'Delivered-To: bob@x', 'X-Original-To: o@x', 'Message-ID: <m@x>', '\xff\xfe', '\xc3\x28', 'é',
].map((s) => Buffer.from(s, 'latin1'));

const mailish = fc
  .array(fc.oneof(fc.constantFrom(...TOKENS), fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a))), { maxLength: 60 })
  .map((parts) => Buffer.concat(parts));
const anyBytes = fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a));
const fromPrefix = fc.constantFrom('', FROM_ + '\n', FROM_ + '\r\n', 'From MAILER-DAEMON  x\n', 'From \n', 'From x');
const message = fc
  .tuple(fromPrefix, fc.oneof(mailish, anyBytes, mailish))
  .map(([prefix, rest]) => Buffer.concat([Buffer.from(prefix, 'latin1'), rest]));

/** The whole-input model of what HeadSplitter must produce (inputs stay below the 64 KiB From_ wait). */
function model(input: Buffer): { stored: Buffer; fromLine: string | undefined; header: Buffer } {
  let body = input;
  let fromLine: string | undefined;
  const lf = input.indexOf(0x0a);
  if (input.subarray(0, 5).toString('latin1') === 'From ' && lf >= 0) {
    fromLine = input.subarray(0, lf).toString('utf8').replace(/\r$/, '');
    body = input.subarray(lf + 1);
  }
  let end = -1;
  if (body[0] === 0x0a || (body[0] === 0x0d && body[1] === 0x0a)) end = 0;
  for (let i = body.indexOf(0x0a); end < 0 && i >= 0; i = body.indexOf(0x0a, i + 1)) {
    if (body[i + 1] === 0x0a || (body[i + 1] === 0x0d && body[i + 2] === 0x0a)) end = i + 1;
  }
  const header = body.subarray(0, Math.min(end < 0 ? body.length : end, MAX_HEAD_KEPT));
  return { stored: body, fromLine, header };
}

/** Cut offsets in [0, len], sorted; duplicates give empty chunks, which must be harmless. */
const cutsFor = (len: number) => fc.array(fc.nat({ max: len }), { maxLength: 12 }).map((c) => c.sort((a, b) => a - b));

function split(input: Buffer, cuts: number[]) {
  const s = new HeadSplitter();
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    out.push(s.feed(input.subarray(prev, c)));
    prev = c;
  }
  out.push(s.end());
  return { stored: Buffer.concat(out), head: s.head() };
}

const withChunks = message.chain((m) => fc.tuple(fc.constant(m), cutsFor(m.length)));
const envStrings = fc.dictionary(
  fc.constantFrom('SENDER', 'RECIPIENT', 'ORIGINAL_RECIPIENT', 'EXTENSION', 'USER', 'HOME'),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

describe('pure pieces, in-process (thousands of runs)', { timeout: 30_000 * SCALE }, () => {
  it('HeadSplitter: any chunking stores input minus the From_ line and keeps the same header', () => {
    fc.assert(
      fc.property(withChunks, ([input, cuts]) => {
        const want = model(input);
        const got = split(input, cuts);
        expect(got.stored.equals(want.stored)).toBe(true);
        expect(got.head.fromLine).toBe(want.fromLine);
        expect(got.head.header.toString('latin1')).toBe(want.header.toString('latin1'));
      }),
      { numRuns: runs(5000), seed },
    );
  });

  it('parseHeaders never throws; names are RFC 5322 ftext, lower case', () => {
    fc.assert(
      fc.property(message, (input) => {
        for (const f of parseHeaders(input)) {
          expect(f.name).toMatch(/^[\x21-\x39\x3b-\x7e]+$/);
          expect(f.name).toBe(f.name.toLowerCase());
        }
      }),
      { numRuns: runs(5000), seed },
    );
  });

  it('envelope and early checks never throw, whatever the header, From_ line, flags and environment', () => {
    const flags = fc.record({ sender: fc.option(fc.string(), { nil: undefined }), recipient: fc.option(fc.string(), { nil: undefined }) });
    fc.assert(
      fc.property(message, flags, envStrings, (input, f, env) => {
        const { fromLine, header } = model(input);
        const fields = parseHeaders(header);
        const e = buildEnvelope(f, fromLine, fields, env);
        for (const v of Object.values(e)) expect(typeof v).toBe('string');
        const stop = earlyChecks(e, fields);
        if (stop) expect(stop).toMatchObject({ kind: 'reject', cause: 'loop' });
      }),
      { numRuns: runs(3000), seed },
    );
  });

  it('angleAddress: what a first <...> holds, else the trimmed text; linear on "<<<<…"', () => {
    const reference = (v: string) => {
      const m = /<([^>]*)>/.exec(v);
      return (m ? m[1]! : v).trim();
    };
    const angled = fc.array(fc.constantFrom('<', '>', ' ', 'a', '@', '\t', 'é'), { maxLength: 30 }).map((a) => a.join(''));
    fc.assert(fc.property(fc.oneof(angled, fc.string()), (v) => void expect(angleAddress(v)).toBe(reference(v))), { numRuns: runs(5000), seed });
    const started = performance.now();
    expect(angleAddress('<'.repeat(1 << 20))).toBe('<'.repeat(1 << 20));
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('insertPoint stays within the header, on a line start', () => {
    fc.assert(
      fc.property(message, fc.boolean(), (input, fromPostfix) => {
        const { header } = model(input);
        const p = insertPoint(header, fromPostfix);
        expect(p.offset).toBeGreaterThanOrEqual(0);
        expect(p.offset).toBeLessThanOrEqual(header.length);
        if (p.offset > 0) expect(header[p.offset - 1]).toBe(0x0a);
        if (!fromPostfix) expect(p.offset).toBe(0);
        expect(['\n', '\r\n']).toContain(p.eol);
      }),
      { numRuns: runs(3000), seed },
    );
  });
});

describe('the real binary (few runs: each spawns mda)', () => {
  let t: ReturnType<typeof tempDir>;
  let cfg: string;
  beforeAll(() => {
    t = tempDir('mda-hostile-prop-');
    cfg = join(t.dir, 'mda.toml');
    writeFileSync(cfg, QUIET_CONFIG + '[delivery]\nmax_message_size = "1M"\n');
  });
  afterAll(() => t.cleanup());

  it('arbitrary bytes end byte-exact in new/ or in a documented outcome; never exit 1, never a hang', { timeout: 120_000 * SCALE }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(withChunks, async ([input, cuts]) => {
        const md = join(t.dir, `Maildir-${run++}`);
        // Pieces written 5 ms apart, so mda's reads see (roughly) the generated chunk boundaries.
        const pieces = [...cuts.slice(0, 3), input.length].map((c, i, all) => input.subarray(i ? all[i - 1] : 0, c));
        const r = await runMda(['deliver', '--config', cfg, '--maildir', md], {
          keepStdinOpen: true,
          hardTimeoutMs: 10_000,
          onSpawn: (c) => {
            const next = (i: number): void => {
              if (i === pieces.length) return void c.stdin!.end();
              c.stdin!.write(pieces[i]!);
              setTimeout(() => next(i + 1), 5);
            };
            next(0);
          },
        });
        const want = model(input);
        const fields = parseHeaders(want.header);
        const loop = earlyChecks(buildEnvelope({}, want.fromLine, fields, {}), fields);
        expect(listDir(join(md, 'tmp'))).toEqual([]);
        if (want.stored.length === 0) {
          expect([r.code, r.output]).toEqual([75, expect.stringMatching(/^4\.3\.0 .*empty/)]);
        } else if (loop) {
          expect([r.code, r.output]).toEqual([77, expect.stringMatching(/^5\.4\.6 /)]);
        } else {
          expect([r.code, r.output]).toEqual([0, '']);
          const names = listDir(join(md, 'new'));
          expect(names).toHaveLength(1);
          expect(readFileSync(join(md, 'new', names[0]!)).equals(want.stored)).toBe(true);
        }
        if (r.code !== 0) expect(listDir(join(md, 'new'))).toEqual([]);
      }),
      { numRuns: runs(40), seed },
    );
  });
});
