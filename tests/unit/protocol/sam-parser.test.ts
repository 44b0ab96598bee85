import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  SAM_MAX_FRAME_BYTES,
  SAM_PREAMBLE,
  SamParser,
  encodeCommand,
  encodeFrame,
  encodeResponse,
  type SamParseResult,
} from '../../../protocol/sam/index.ts';
import { readHexFixture, samFixtureNames } from '../../helpers/fixtures.ts';

type Run = { results: SamParseResult[]; parser: SamParser; pushed: number };

/** Feeds the chunks, then ends the stream, checking the between-push bound on the way. */
function run(chunks: Iterable<Uint8Array>): Run {
  const parser = new SamParser();
  const results: SamParseResult[] = [];
  let pushed = 0;
  let maxBuffered = 0;
  for (const chunk of chunks) {
    results.push(...parser.push(chunk));
    pushed += chunk.length;
    maxBuffered = Math.max(maxBuffered, parser.bufferedBytes);
  }
  expect(maxBuffered).toBeLessThan(SAM_MAX_FRAME_BYTES);
  results.push(...parser.end());
  return { results, parser, pushed };
}

/** Results with their bytes as hex, so that comparing thousands of runs stays cheap. */
function snapshot(results: SamParseResult[]): unknown[] {
  return results.map((r) => (r.ok ? { ...r.frame, raw: r.frame.raw.toString('hex'), data: r.frame.data.length } : r.error));
}

/** Cuts bytes into chunks whose sizes cycle through `sizes`. */
function* chunked(bytes: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? bytes.length;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

/** Results as [code or 'frame', offset] pairs: what most assertions care about. */
function outline(results: SamParseResult[]): Array<[string, number]> {
  return results.map((r) => (r.ok ? ['frame', r.frame.offset] : [r.error.code, r.error.offset]));
}

function hex(text: string): Buffer {
  return Buffer.from(text.replaceAll(' ', ''), 'hex');
}

const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);
const FIND = encodeCommand('find');
const STATUS_OK = encodeResponse(0x90);

/** What each fixture parses to (PROTOCOL.md §3 and tests/fixtures/README.md). */
type Want = { dir: 'command'; cmd: number; para: number } | { dir: 'response'; sw3: number } | 'bad-checksum';
const FIXTURES: Record<string, Want> = {
  'cmd-find': { dir: 'command', cmd: 0x20, para: 0x01 },
  'cmd-select': { dir: 'command', cmd: 0x20, para: 0x02 },
  'cmd-read': { dir: 'command', cmd: 0x30, para: 0x01 },
  'cmd-status': { dir: 'command', cmd: 0x11, para: 0xff },
  'resp-status-ok': { dir: 'response', sw3: 0x90 },
  'resp-find-ok': { dir: 'response', sw3: 0x9f },
  'resp-find-none': { dir: 'response', sw3: 0x80 },
  'resp-select-ok': { dir: 'response', sw3: 0x90 },
  'resp-read-failed': { dir: 'response', sw3: 0x41 },
  'read-resident': { dir: 'response', sw3: 0x90 },
  'read-longterm': { dir: 'response', sw3: 0x90 },
  'read-expired': { dir: 'response', sw3: 0x90 },
  'read-hk-permit': { dir: 'response', sw3: 0x90 },
  'read-bad-checksum': 'bad-checksum',
};

describe('SAM fixtures', () => {
  it('the expectations cover every fixture file', () => {
    expect(samFixtureNames()).toEqual(Object.keys(FIXTURES).sort());
  });

  it.each(Object.entries(FIXTURES).filter(([, want]) => want !== 'bad-checksum'))('%s parses as one whole frame', (name, want) => {
    const bytes = readHexFixture(name);
    const { results, parser } = run([bytes]);
    expect(results).toEqual([{ ok: true, frame: expect.objectContaining({ ...(want as object), offset: 0, raw: bytes }) }]);
    expect(parser.skippedBytes).toBe(0);
  });

  it('read responses carry 4 + 256 + 1024 bytes of DATA', () => {
    const [result] = run([readHexFixture('read-resident')]).results;
    expect(result?.ok && result.frame.data.length).toBe(1284);
  });

  it('a bad checksum is counted and the next frame still parses', () => {
    const bad = readHexFixture('read-bad-checksum');
    const { results, parser } = run([cat(hex('01 02 03'), bad, FIND)]);
    expect(outline(results)).toEqual([
      ['MW_SAM_BAD_CHECKSUM', 3],
      ['frame', 3 + bad.length],
    ]);
    expect(parser.skippedBytes).toBe(3 + bad.length);
  });
});

describe('chunk boundaries', () => {
  const stream = cat(
    ...samFixtureNames().flatMap((name) => [readHexFixture(name), hex('00 AA 11 AA AA')]),
    hex('AA AA AA 96 69 00 02 01'),
    FIND,
  );
  const wholeRun = run([stream]);
  const whole = snapshot(wholeRun.results);

  it.each(samFixtureNames())('%s decodes identically when split into two chunks at every byte offset', (name) => {
    const bytes = readHexFixture(name);
    const once = snapshot(run([bytes]).results);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(snapshot(run([bytes.subarray(0, cut), bytes.subarray(cut)]).results)).toEqual(once);
    }
  });

  it.each(samFixtureNames())('%s decodes identically when fed one byte at a time', (name) => {
    const bytes = readHexFixture(name);
    expect(snapshot(run(chunked(bytes, [1])).results)).toEqual(snapshot(run([bytes]).results));
  });

  it('a stream of every fixture with garbage between gives the same results at every two-chunk split', () => {
    expect(outline(wholeRun.results).filter(([what]) => what === 'frame')).toHaveLength(14);
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(snapshot(run([stream.subarray(0, cut), stream.subarray(cut)]).results)).toEqual(whole);
    }
  });

  it('the same stream gives the same results one byte at a time', () => {
    expect(snapshot(run(chunked(stream, [1])).results)).toEqual(whole);
  });

  it('a preamble split across chunks is still found', () => {
    const { results } = run([hex('55 AA AA'), hex('AA 96'), cat(hex('69'), FIND.subarray(5))]);
    expect(outline(results)).toEqual([['frame', 1]]);
  });
});

describe('resync and rejected frames (PROTOCOL.md §3)', () => {
  it('garbage before a frame is skipped and counted', () => {
    const { results, parser } = run([cat(hex('00 11 96 69 AA 96 69'), FIND)]);
    expect(outline(results)).toEqual([['frame', 7]]);
    expect(parser.skippedBytes).toBe(7);
  });

  it.each([0, 1, 2])('LEN %i is a bad length, and the next frame still parses', (len) => {
    const bogus = cat(SAM_PREAMBLE, Uint8Array.of(0, len, 0x11, 0xff));
    const { results } = run([cat(bogus, FIND)]);
    expect(outline(results)).toEqual([
      ['MW_SAM_BAD_LENGTH', 0],
      ['frame', bogus.length],
    ]);
  });

  it('a LEN past the 4 KiB cap is refused without waiting for its bytes, and the next frame parses', () => {
    const parser = new SamParser();
    const results = parser.push(cat(hex('AA AA AA 96 69 0F FA'), STATUS_OK));
    expect(outline(results)).toEqual([
      ['MW_SAM_FRAME_TOO_LARGE', 0],
      ['frame', 7],
    ]);
  });

  it('a frame of exactly 4 KiB is accepted', () => {
    const max = encodeResponse(0x90, new Uint8Array(SAM_MAX_FRAME_BYTES - 11));
    expect(max).toHaveLength(SAM_MAX_FRAME_BYTES);
    expect(outline(run([max]).results)).toEqual([['frame', 0]]);
  });

  it('a frame cut off at the end of input is reported with its offset', () => {
    const read = readHexFixture('read-resident');
    const { results, parser, pushed } = run([FIND, read.subarray(0, 700)]);
    expect(outline(results)).toEqual([
      ['frame', 0],
      ['MW_SAM_TRUNCATED', FIND.length],
    ]);
    expect(parser.skippedBytes).toBe(pushed - FIND.length);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('a frame cut off inside its header is reported as truncated', () => {
    expect(outline(run([hex('AA AA AA 96 69 05')]).results)).toEqual([['MW_SAM_TRUNCATED', 0]]);
  });

  it('a partial preamble at the end of input is garbage, not a truncated frame', () => {
    const { results, parser } = run([hex('AA AA AA 96')]);
    expect(results).toEqual([]);
    expect(parser.skippedBytes).toBe(4);
  });

  it('the parser goes on after end(), with offsets continuing', () => {
    const parser = new SamParser();
    parser.push(FIND.subarray(0, 4));
    expect(parser.end()).toEqual([]);
    expect(outline(parser.push(FIND))).toEqual([['frame', 4]]);
  });

  it('a real frame hidden inside a corrupt one is still found', () => {
    // The bogus header claims 32 bytes; the find command sits inside them.
    const bogus = cat(hex('AA AA AA 96 69 00 20'), FIND, new Uint8Array(22).fill(0x55));
    const { results } = run([cat(bogus, STATUS_OK)]);
    expect(outline(results)).toEqual([
      ['MW_SAM_BAD_CHECKSUM', 0],
      ['frame', 7],
      ['frame', bogus.length],
    ]);
  });

  it('garbage ending in a whole preamble only costs one error before the real frame', () => {
    // The bogus LEN is the real frame's AA AA: far past the cap, refused at once.
    const { results } = run([cat(hex('01 AA AA AA 96 69'), FIND)]);
    expect(outline(results)).toEqual([
      ['MW_SAM_FRAME_TOO_LARGE', 1],
      ['frame', 6],
    ]);
  });

  it('garbage ending in a preamble and 00 holds the real frame until the bogus one is refused', () => {
    // LEN = 00 AA = 170: the parser waits for 177 bytes that never come.
    const bytes = cat(hex('AA AA AA 96 69 00'), FIND);
    const parser = new SamParser();
    expect(parser.push(bytes)).toEqual([]);
    expect(outline(parser.end())).toEqual([
      ['MW_SAM_TRUNCATED', 0],
      ['frame', 6],
    ]);
  });

  it('the same bogus frame is refused by its checksum once enough bytes follow', () => {
    const bytes = cat(hex('AA AA AA 96 69 00'), FIND, new Uint8Array(170).fill(0x33), STATUS_OK);
    expect(outline(run([bytes]).results)).toEqual([
      ['MW_SAM_BAD_CHECKSUM', 0],
      ['frame', 6],
      ['frame', 6 + FIND.length + 170],
    ]);
  });

  it.each(['AA', 'AA AA', 'AA AA AA', 'AA AA AA 96', 'AA AA AA AA AA'])(
    'garbage ending in %s does not hide the frame after it',
    (tail) => {
      const garbage = hex(`10 20 ${tail}`);
      expect(outline(run([cat(garbage, FIND)]).results)).toEqual([['frame', garbage.length]]);
    },
  );
});

/** Random streams rich in preambles and frame prefixes: the cases that stress resync. */
const noisyPiece = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.constant(SAM_PREAMBLE),
  fc.constant(SAM_PREAMBLE.subarray(0, 3)),
  fc.integer({ min: 0, max: 0xffff }).map((len) => cat(SAM_PREAMBLE, Uint8Array.of(len >> 8, len & 0xff))),
  fc.integer({ min: 0, max: 300 }).map((len) => cat(SAM_PREAMBLE, Uint8Array.of(0, len))),
  fc.uint8Array({ maxLength: 30 }).map((data) => encodeResponse(0x90, data)),
);
const noisyStream = fc.array(noisyPiece, { maxLength: 60 }).map((pieces) => cat(...pieces));
const chunkSizes = fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 });

/** Garbage that holds no 0xAA, so it can neither contain nor start a preamble. */
const cleanGarbage = fc.uint8Array({ maxLength: 300 }).map((g) => g.map((b) => (b === 0xaa ? 0xab : b)));

describe('parser properties (fast-check)', () => {
  it('random bytes never make it throw, and the buffer stays under one max frame', () => {
    fc.assert(
      fc.property(noisyStream, chunkSizes, (bytes, sizes) => {
        run(chunked(bytes, sizes));
      }),
      { numRuns: 300 },
    );
  });

  it('every byte ends up in an accepted frame or in skippedBytes', () => {
    fc.assert(
      fc.property(noisyStream, chunkSizes, (bytes, sizes) => {
        const { results, parser, pushed } = run(chunked(bytes, sizes));
        const framed = results.reduce((n, r) => n + (r.ok ? r.frame.raw.length : 0), 0);
        expect(framed + parser.skippedBytes).toBe(pushed);
      }),
      { numRuns: 300 },
    );
  });

  it('results come in stream order and accepted frames match the bytes at their offset', () => {
    fc.assert(
      fc.property(noisyStream, chunkSizes, (bytes, sizes) => {
        const { results } = run(chunked(bytes, sizes));
        const offsets = results.map((r) => (r.ok ? r.frame.offset : r.error.offset));
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        for (const r of results) {
          if (r.ok) expect(r.frame.raw).toEqual(bytes.subarray(r.frame.offset, r.frame.offset + r.frame.raw.length));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a valid frame after garbage (and a partial preamble) is found at its offset', () => {
    const frame = fc.oneof(
      fc.uint8Array({ minLength: 2, maxLength: 100 }).map((body) => encodeFrame(body)),
      fc.uint8Array({ maxLength: 1300 }).map((data) => encodeResponse(0x90, data)),
    );
    const prefix = fc.integer({ min: 0, max: 4 }).map((k) => SAM_PREAMBLE.subarray(0, k));
    fc.assert(
      fc.property(cleanGarbage, prefix, frame, cleanGarbage, chunkSizes, (before, partial, raw, after, sizes) => {
        const bytes = cat(before, partial, raw, after);
        const { results } = run(chunked(bytes, sizes));
        const at = before.length + partial.length;
        expect(results).toEqual([{ ok: true, frame: expect.objectContaining({ offset: at, raw }) }]);
      }),
    );
  });
});

describe('throughput', () => {
  it('parses 400 read responses fed one byte at a time', () => {
    const read = readHexFixture('read-resident');
    const bytes = cat(...Array.from({ length: 400 }, () => read));
    const { results } = run(chunked(bytes, [1]));
    expect(results.filter((r) => r.ok)).toHaveLength(400);
  });

  it('parses 4 MiB of preamble-dense noise in 1 KiB chunks', () => {
    const noise = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    for (let at = 0; at + 7 < noise.length; at += 97) {
      SAM_PREAMBLE.copy(noise, at);
      noise[at + 5] = at % 16; // LEN up to 4 KiB, so many bogus frames wait and then fail
    }
    const { results, parser, pushed } = run(chunked(noise, [1024]));
    const framed = results.reduce((n, r) => n + (r.ok ? r.frame.raw.length : 0), 0);
    expect(results.filter((r) => !r.ok).length).toBeGreaterThan(40_000);
    expect(framed + parser.skippedBytes).toBe(pushed);
  });
});
