// Streaming SAM frame parser, PROTOCOL.md §3 "The parser must". Pure: bytes in, results
// out, no I/O and no timers. Serial, HID (after report unwrapping) and network readers
// all feed it the same byte stream.
import type { ErrorCode } from '../errors.ts';
import {
  SAM_HEADER_BYTES,
  SAM_MAX_FRAME_BYTES,
  SAM_MAX_LEN,
  SAM_MIN_LEN,
  SAM_PREAMBLE,
  frameFromRaw,
  samChecksum,
  type SamFrame,
} from './frame.ts';

/** `offset` is the absolute stream offset of the offending frame's first preamble byte. */
export type SamParseError = { code: ErrorCode; offset: number; detail?: string };

export type SamParseResult = { ok: true; frame: SamFrame } | { ok: false; error: SamParseError };

/**
 * Room for one max frame still pending plus an ordinary read. A push larger than this
 * grows the store for that push only; it shrinks back afterwards, so memory stays bounded.
 */
const BASE_CAPACITY = 2 * SAM_MAX_FRAME_BYTES;

/** Length of the longest proper preamble prefix that `bytes` ends with (0–4). */
function partialPreambleLength(bytes: Buffer): number {
  for (let k = Math.min(SAM_PREAMBLE.length - 1, bytes.length); k > 0; k--) {
    if (bytes.subarray(bytes.length - k).equals(SAM_PREAMBLE.subarray(0, k))) return k;
  }
  return 0;
}

/**
 * Never throws on input. Between pushes it holds at most one incomplete frame
 * (< SAM_MAX_FRAME_BYTES), or the last ≤ 4 bytes when they could begin a preamble.
 *
 * Byte accounting: every byte pushed is, at any moment, either part of an accepted
 * frame, counted in `skippedBytes` (garbage and the bytes of rejected or truncated
 * frames), or still in `bufferedBytes`.
 */
export class SamParser {
  #buf: Buffer = Buffer.alloc(BASE_CAPACITY);
  #start = 0; // first unconsumed byte in #buf
  #end = 0; // one past the last stored byte in #buf
  #streamPos = 0; // absolute stream offset of #buf[#start]
  #skipped = 0;

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /** Bytes discarded so far without being part of an accepted frame. */
  get skippedBytes(): number {
    return this.#skipped;
  }

  /** Feeds the next bytes of the stream; returns the frames and errors they complete. */
  push(chunk: Uint8Array): SamParseResult[] {
    this.#append(chunk);
    const out: SamParseResult[] = [];
    while (this.#step(out, false)) {
      // each step consumed a frame, an error or garbage; stop when input runs short
    }
    this.#shrink();
    return out;
  }

  /**
   * The stream has ended: a frame still incomplete is reported as MW_SAM_TRUNCATED, and
   * like any rejected frame it is rescanned from the byte after its preamble start, so a
   * whole frame inside it is still found. The parser is empty afterwards and may go on.
   */
  end(): SamParseResult[] {
    const out: SamParseResult[] = [];
    while (this.#step(out, true)) {
      // as in push, but an incomplete frame is now an error rather than a wait
    }
    this.#discard(this.bufferedBytes);
    this.#shrink();
    return out;
  }

  /** Handles one frame or error at the front. Returns false when more input is needed. */
  #step(out: SamParseResult[], atEnd: boolean): boolean {
    if (!this.#seekPreamble()) return false;
    const pending = this.#buf.subarray(this.#start, this.#end);
    if (pending.length < SAM_HEADER_BYTES) {
      return atEnd && this.#reject(out, 'MW_SAM_TRUNCATED', `input ended ${pending.length} bytes into the header`);
    }
    const len = pending.readUInt16BE(SAM_PREAMBLE.length);
    if (len < SAM_MIN_LEN) return this.#reject(out, 'MW_SAM_BAD_LENGTH', `LEN ${len} is below ${SAM_MIN_LEN}`);
    if (len > SAM_MAX_LEN) {
      return this.#reject(out, 'MW_SAM_FRAME_TOO_LARGE', `LEN ${len} makes a ${SAM_HEADER_BYTES + len}-byte frame`);
    }
    const total = SAM_HEADER_BYTES + len;
    if (pending.length < total) {
      return atEnd && this.#reject(out, 'MW_SAM_TRUNCATED', `input ended after ${pending.length} of ${total} bytes`);
    }
    const chk = samChecksum(pending, SAM_PREAMBLE.length, total - 1);
    const got = pending[total - 1] ?? 0;
    if (chk !== got) return this.#reject(out, 'MW_SAM_BAD_CHECKSUM', `CHK is ${hex(got)}, bytes give ${hex(chk)}`);
    out.push({ ok: true, frame: frameFromRaw(Buffer.from(pending.subarray(0, total)), this.#streamPos) });
    this.#start += total;
    this.#streamPos += total;
    return true;
  }

  /**
   * Drops garbage up to the next preamble. Without one, keeps only a trailing preamble
   * prefix, since the rest of the preamble may come in the next chunk.
   */
  #seekPreamble(): boolean {
    const pending = this.#buf.subarray(this.#start, this.#end);
    const at = pending.indexOf(SAM_PREAMBLE);
    if (at >= 0) {
      this.#discard(at);
      return true;
    }
    this.#discard(pending.length - partialPreambleLength(pending));
    return false;
  }

  /** PROTOCOL.md §3: reject, then rescan from the byte after this frame's preamble start. */
  #reject(out: SamParseResult[], code: ErrorCode, detail: string): true {
    out.push({ ok: false, error: { code, offset: this.#streamPos, detail } });
    this.#discard(1);
    return true;
  }

  #discard(n: number): void {
    this.#start += n;
    this.#streamPos += n;
    this.#skipped += n;
  }

  /** Appends without re-copying the whole stream: pending data is < 4 KiB between pushes. */
  #append(chunk: Uint8Array): void {
    const pending = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buf.length) {
      const needed = pending + chunk.length;
      const target = needed > this.#buf.length ? Buffer.alloc(Math.max(needed, BASE_CAPACITY)) : this.#buf;
      this.#buf.copy(target, 0, this.#start, this.#end);
      this.#buf = target;
      this.#start = 0;
      this.#end = pending;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Gives back the room a large push needed, so one big chunk does not pin memory. */
  #shrink(): void {
    if (this.#buf.length <= BASE_CAPACITY) return;
    const small = Buffer.alloc(BASE_CAPACITY);
    this.#end = this.#buf.copy(small, 0, this.#start, this.#end);
    this.#buf = small;
    this.#start = 0;
  }
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0').toUpperCase()}`;
}
