// SAM ID-card reader frames (GA/T 467), PROTOCOL.md §3. Pure byte codec: no I/O.
//
//   host → reader: AA AA AA 96 69 | LEN_H LEN_L | CMD PARA [DATA] | CHK
//   reader → host: AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 [DATA] | CHK

/** The 5-byte preamble that starts every frame in both directions. */
export const SAM_PREAMBLE: Buffer = Buffer.from([0xaa, 0xaa, 0xaa, 0x96, 0x69]);

/** Preamble plus the two LEN bytes: what must arrive before the frame size is known. */
export const SAM_HEADER_BYTES = SAM_PREAMBLE.length + 2;

/** PROTOCOL.md §3 caps a whole frame, preamble to CHK, at 4 KiB. */
export const SAM_MAX_FRAME_BYTES = 4096;

/** LEN counts body + CHK. The smallest body is CMD PARA, so LEN is at least 3. */
export const SAM_MIN_LEN = 3;

/** The largest LEN whose frame still fits in SAM_MAX_FRAME_BYTES. */
export const SAM_MAX_LEN = SAM_MAX_FRAME_BYTES - SAM_HEADER_BYTES;

/** Body sizes that encodeFrame accepts: the LEN range minus the CHK byte. */
const MIN_BODY = SAM_MIN_LEN - 1;
const MAX_BODY = SAM_MAX_LEN - 1;

/** A frame the parser accepted. `offset` is where its first preamble byte sat in the stream. */
export type SamFrame =
  | { dir: 'command'; offset: number; raw: Buffer; cmd: number; para: number; data: Buffer }
  | { dir: 'response'; offset: number; raw: Buffer; sw1: number; sw2: number; sw3: number; data: Buffer };

export type SamCommand = 'status' | 'samId' | 'find' | 'select' | 'read';

/** CMD and PARA of each host operation, from the table in PROTOCOL.md §3. */
export const SAM_COMMANDS: Readonly<Record<SamCommand, readonly [cmd: number, para: number]>> = {
  status: [0x11, 0xff],
  samId: [0x12, 0xff],
  find: [0x20, 0x01],
  select: [0x20, 0x02],
  read: [0x30, 0x01],
};

/** SW3 status codes a reader answers with (PROTOCOL.md §3). */
export const SW3 = {
  ok: 0x90,
  cardFound: 0x9f,
  noCard: 0x80,
  selectFailed: 0x81,
  readFailed: 0x41,
  checksumError: 0x10,
  lengthError: 0x11,
  badCommand: 0x21,
  samSelfTestFailed: 0x60,
  samNotAuthorised: 0x66,
} as const;

const SW3_MEANINGS: ReadonlyMap<number, string> = new Map([
  [SW3.ok, 'ok'],
  [SW3.cardFound, 'card found'],
  [SW3.noCard, 'no card'],
  [SW3.selectFailed, 'select failed'],
  [SW3.readFailed, 'read failed'],
  [SW3.checksumError, 'checksum error'],
  [SW3.lengthError, 'length error'],
  [SW3.badCommand, 'bad command'],
  [SW3.samSelfTestFailed, 'SAM self-test failed'],
  [SW3.samNotAuthorised, 'SAM not authorised'],
]);

/** A human meaning for a SW3 byte; the spec says anything unlisted is an unknown status. */
export function describeSw3(sw3: number): string {
  return SW3_MEANINGS.get(sw3) ?? 'unknown status';
}

/** CHK = XOR of every byte from LEN_H through the last DATA byte (PROTOCOL.md §3). */
export function samChecksum(bytes: Uint8Array, from: number, to: number): number {
  let chk = 0;
  for (let i = from; i < to; i++) chk ^= bytes[i] ?? 0;
  return chk;
}

/**
 * Wraps a body (CMD PARA [DATA] or SW1 SW2 SW3 [DATA]) in preamble, LEN and CHK.
 * Throws RangeError for a body the parser would refuse: this is for code that builds
 * frames (the driver, simulators), where a bad size is a programming error.
 */
export function encodeFrame(body: Uint8Array): Buffer {
  if (body.length < MIN_BODY || body.length > MAX_BODY) {
    throw new RangeError(`SAM frame body must be ${MIN_BODY}..${MAX_BODY} bytes, got ${body.length}`);
  }
  const frame = Buffer.alloc(SAM_HEADER_BYTES + body.length + 1);
  SAM_PREAMBLE.copy(frame, 0);
  frame.writeUInt16BE(body.length + 1, SAM_PREAMBLE.length);
  frame.set(body, SAM_HEADER_BYTES);
  frame[frame.length - 1] = samChecksum(frame, SAM_PREAMBLE.length, frame.length - 1);
  return frame;
}

/** The exact host frame of an operation in the PROTOCOL.md §3 table. */
export function encodeCommand(cmd: SamCommand): Buffer {
  return encodeFrame(Uint8Array.from(SAM_COMMANDS[cmd]));
}

/** A reader reply: SW1 = SW2 = 0x00, then SW3 and DATA. */
export function encodeResponse(sw3: number, data: Uint8Array = new Uint8Array(0)): Buffer {
  const body = new Uint8Array(3 + data.length);
  body[2] = sw3;
  body.set(data, 3);
  return encodeFrame(body);
}

/**
 * Names the fields of a whole, checked frame. Direction rule of PROTOCOL.md §3: a body
 * that starts with 00 and has at least 3 bytes is a reader response, anything else a
 * host command. `raw` must be at least SAM_HEADER_BYTES + SAM_MIN_LEN bytes long.
 */
export function frameFromRaw(raw: Buffer, offset: number): SamFrame {
  const body = raw.subarray(SAM_HEADER_BYTES, raw.length - 1);
  const b = (i: number): number => body[i] ?? 0;
  if (b(0) === 0x00 && body.length >= 3) {
    return { dir: 'response', offset, raw, sw1: b(0), sw2: b(1), sw3: b(2), data: body.subarray(3) };
  }
  return { dir: 'command', offset, raw, cmd: b(0), para: b(1), data: body.subarray(2) };
}
