import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  SAM_MAX_FRAME_BYTES,
  SW3,
  SamParser,
  describeSw3,
  encodeCommand,
  encodeFrame,
  encodeResponse,
  type SamCommand,
  type SamFrame,
} from '../../../protocol/sam/index.ts';
import { readHexFixture } from '../../helpers/fixtures.ts';

function parseOne(bytes: Uint8Array): SamFrame {
  const parser = new SamParser();
  const results = [...parser.push(bytes), ...parser.end()];
  expect(results).toHaveLength(1);
  const [result] = results;
  if (!result?.ok) throw new Error(`expected a frame, got ${JSON.stringify(result)}`);
  return result.frame;
}

describe('SAM commands (PROTOCOL.md §3)', () => {
  it.each([
    ['status', 'cmd-status'],
    ['find', 'cmd-find'],
    ['select', 'cmd-select'],
    ['read', 'cmd-read'],
  ] as const)('%s encodes to exactly the bytes of %s.hex', (cmd, fixture) => {
    expect(encodeCommand(cmd)).toEqual(readHexFixture(fixture));
  });

  it('every operation of the spec table encodes to its listed frame', () => {
    const table: Record<SamCommand, string> = {
      status: 'AA AA AA 96 69 00 03 11 FF ED',
      samId: 'AA AA AA 96 69 00 03 12 FF EE',
      find: 'AA AA AA 96 69 00 03 20 01 22',
      select: 'AA AA AA 96 69 00 03 20 02 21',
      read: 'AA AA AA 96 69 00 03 30 01 32',
    };
    for (const [cmd, hex] of Object.entries(table)) {
      expect(encodeCommand(cmd as SamCommand)).toEqual(Buffer.from(hex.replaceAll(' ', ''), 'hex'));
    }
  });

  it('a command frame parses as a host command with its CMD and PARA', () => {
    const frame = parseOne(encodeCommand('select'));
    expect(frame).toMatchObject({ dir: 'command', offset: 0, cmd: 0x20, para: 0x02 });
    expect(frame.data).toHaveLength(0);
  });
});

describe('SAM responses (PROTOCOL.md §3)', () => {
  it.each([
    ['resp-status-ok', SW3.ok, 0],
    ['resp-find-ok', SW3.cardFound, 4],
    ['resp-find-none', SW3.noCard, 0],
    ['resp-select-ok', SW3.ok, 8],
    ['resp-read-failed', SW3.readFailed, 0],
  ])('%s is what encodeResponse builds from its SW3 and zeroed data', (fixture, sw3, dataBytes) => {
    expect(encodeResponse(sw3, new Uint8Array(dataBytes))).toEqual(readHexFixture(fixture));
  });

  it('SW1 and SW2 are zero and SW3 and DATA follow', () => {
    const frame = encodeResponse(0x9f, Uint8Array.of(1, 2, 3));
    expect([...frame]).toEqual([0xaa, 0xaa, 0xaa, 0x96, 0x69, 0x00, 0x07, 0x00, 0x00, 0x9f, 1, 2, 3, 0x98]);
  });

  it('describes every SW3 of the spec table and calls the rest unknown', () => {
    expect(describeSw3(0x90)).toBe('ok');
    expect(describeSw3(0x9f)).toBe('card found');
    expect(describeSw3(0x80)).toBe('no card');
    expect(describeSw3(0x81)).toBe('select failed');
    expect(describeSw3(0x41)).toBe('read failed');
    expect(describeSw3(0x10)).toBe('checksum error');
    expect(describeSw3(0x11)).toBe('length error');
    expect(describeSw3(0x21)).toBe('bad command');
    expect(describeSw3(0x60)).toBe('SAM self-test failed');
    expect(describeSw3(0x66)).toBe('SAM not authorised');
    expect(describeSw3(0x00)).toBe('unknown status');
    expect(describeSw3(0x91)).toBe('unknown status');
  });
});

describe('frame direction (PROTOCOL.md §3)', () => {
  it('a body starting 00 with at least 3 bytes is a response', () => {
    expect(parseOne(encodeFrame(Uint8Array.of(0x00, 0x00, 0x90))).dir).toBe('response');
  });

  it('a body starting 00 with only 2 bytes is a command', () => {
    expect(parseOne(encodeFrame(Uint8Array.of(0x00, 0x05)))).toMatchObject({ dir: 'command', cmd: 0, para: 5 });
  });

  it('a body starting with anything but 00 is a command, even when long', () => {
    const frame = parseOne(encodeFrame(Uint8Array.of(0x30, 0x01, 0xaa, 0xbb)));
    expect(frame).toMatchObject({ dir: 'command', cmd: 0x30, para: 0x01 });
    expect([...frame.data]).toEqual([0xaa, 0xbb]);
  });
});

describe('encodeFrame size limits', () => {
  it('refuses a body shorter than CMD PARA', () => {
    expect(() => encodeFrame(Uint8Array.of(0x11))).toThrow(RangeError);
  });

  it('makes a frame of exactly 4 KiB and refuses one byte more', () => {
    expect(encodeFrame(new Uint8Array(SAM_MAX_FRAME_BYTES - 8))).toHaveLength(SAM_MAX_FRAME_BYTES);
    expect(() => encodeFrame(new Uint8Array(SAM_MAX_FRAME_BYTES - 7))).toThrow(RangeError);
  });
});

describe('encode → parse round trips (fast-check)', () => {
  it('any command frame parses back to its CMD, PARA and DATA', () => {
    const command = fc.record({
      cmd: fc.integer({ min: 1, max: 255 }),
      para: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 600 }),
    });
    fc.assert(
      fc.property(command, ({ cmd, para, data }) => {
        const raw = encodeFrame(Uint8Array.from([cmd, para, ...data]));
        const frame = parseOne(raw);
        expect(frame).toMatchObject({ dir: 'command', cmd, para, raw });
        expect(frame.data).toEqual(Buffer.from(data));
      }),
    );
  });

  it('any response parses back to its SW3 and DATA, up to the 4 KiB cap', () => {
    const response = fc.record({
      sw3: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: SAM_MAX_FRAME_BYTES - 11 }),
    });
    fc.assert(
      fc.property(response, ({ sw3, data }) => {
        const frame = parseOne(encodeResponse(sw3, data));
        expect(frame).toMatchObject({ dir: 'response', sw1: 0, sw2: 0, sw3 });
        expect(frame.data).toEqual(Buffer.from(data));
      }),
      { numRuns: 50 },
    );
  });
});
