// A simulated GA/T 467 ID card reader, device side of PROTOCOL.md §3: it parses host
// commands with the project's SamParser and answers like a reader with or without a card
// on it. Faults are injected by setting `faults` at any time; they apply to the next
// reply. It runs over any ByteTransport: a SerialTransport on the far end of a socat pty
// pair, a HidTransport on a fake HID pair, or an in-memory byte pipe.
import { createHash, randomBytes } from 'node:crypto';
import type { ByteTransport } from '../gateway/drivers/transport.ts';
import {
  SAM_COMMANDS,
  SAM_PREAMBLE,
  SW3,
  SamParser,
  encodeReadResponse,
  encodeResponse,
  type CardFields,
  type SamCommand,
  type SamParseError,
} from '../protocol/sam/index.ts';

export type SamSimFaults = {
  /** Flip the CHK byte of the next reply; cleared once used. */
  badChecksum?: boolean;
  /** Bytes of random garbage before each reply (never containing a preamble byte). */
  garbageBefore?: number;
  /** Write each reply in chunks of this many bytes, with a short pause between. */
  splitEvery?: number;
  /** Answer nothing, like a reader with a dead SAM module. */
  silent?: boolean;
  /** Hold replies to these commands back this long, to make them arrive after the host's timeout. */
  delayMs?: Partial<Record<SamCommand, number>>;
  /** Answer read with SW3 41 (read failed) even with a card present. */
  failRead?: boolean;
};

/** Pause between the chunks of a split reply: enough for them to arrive as separate reads. */
const SPLIT_PAUSE_MS = 2;

/** The photo block of PROTOCOL.md §3 is 1024 opaque bytes (WLT on a real card). */
export const PHOTO_BYTES = 1024;

/** The data a real reader returns after select (PROTOCOL.md §3 leaves it opaque). */
const SELECT_DATA = Buffer.alloc(8);
const FIND_DATA = Buffer.alloc(4);
/** The 16-byte SAM id a "read SAM id" returns; any fixed value will do for a simulator. */
const SAM_ID = Buffer.alloc(16, 0x05);

type Inserted = { fields: CardFields; photo: Buffer };

export type SamReaderSimOptions = { transport: ByteTransport; faults?: SamSimFaults };

export class SamReaderSim {
  faults: SamSimFaults;
  /** Commands seen, by name; `unknown` for a command outside the §3 table, `bad` for a bad frame. */
  readonly counts: Record<SamCommand | 'unknown' | 'bad', number> = {
    status: 0, samId: 0, find: 0, select: 0, read: 0, unknown: 0, bad: 0,
  };
  readonly #transport: ByteTransport;
  #parser = new SamParser();
  #card: Inserted | null = null;
  /** Replies go out in order, even when one is split or delayed. */
  #sending: Promise<void> = Promise.resolve();

  constructor(opts: SamReaderSimOptions) {
    this.#transport = opts.transport;
    this.faults = opts.faults ?? {};
  }

  /** Opens (or reopens, after an unplug) the device end and starts answering. */
  async start(): Promise<void> {
    this.#transport.onData((chunk) => this.#onBytes(chunk));
    this.#transport.onClose(() => {
      this.#parser = new SamParser();
    });
    this.#parser = new SamParser();
    await this.#transport.open();
  }

  async stop(): Promise<void> {
    await this.#sending;
    await this.#transport.close();
  }

  /** Puts a card on the reader; without a photo, one derived from the ID number. */
  insertCard(fields: CardFields, photo: Buffer = photoFor(fields.idNumber)): void {
    this.#card = { fields, photo };
  }

  removeCard(): void {
    this.#card = null;
  }

  #onBytes(chunk: Buffer): void {
    for (const result of this.#parser.push(chunk)) {
      if (!result.ok) {
        const reply = this.#answerBadFrame(result.error);
        if (reply !== null) this.#send(reply, 0);
      } else if (result.frame.dir === 'command') {
        const cmd = commandOf(result.frame.cmd, result.frame.para);
        this.counts[cmd ?? 'unknown']++;
        this.#send(this.#answer(cmd), cmd === null ? 0 : (this.faults.delayMs?.[cmd] ?? 0));
      }
    }
  }

  #answer(cmd: SamCommand | null): Buffer {
    const card = this.#card;
    switch (cmd) {
      case 'status':
        return encodeResponse(SW3.ok);
      case 'samId':
        return encodeResponse(SW3.ok, SAM_ID);
      case 'find':
        return card ? encodeResponse(SW3.cardFound, FIND_DATA) : encodeResponse(SW3.noCard);
      case 'select':
        return card ? encodeResponse(SW3.ok, SELECT_DATA) : encodeResponse(SW3.selectFailed);
      case 'read':
        if (!card || this.faults.failRead) return encodeResponse(SW3.readFailed);
        return encodeReadResponse(card.fields, card.photo);
      case null:
        return encodeResponse(SW3.badCommand);
    }
  }

  /** Real readers answer a garbled command with SW3 10 (checksum) or 11 (length). */
  #answerBadFrame(error: SamParseError): Buffer | null {
    this.counts.bad++;
    if (error.code === 'MW_SAM_BAD_CHECKSUM') return encodeResponse(SW3.checksumError);
    if (error.code === 'MW_SAM_BAD_LENGTH') return encodeResponse(SW3.lengthError);
    return null;
  }

  #send(reply: Buffer, delayMs: number): void {
    const faults = this.faults;
    if (faults.silent) return;
    let bytes = reply;
    if (faults.badChecksum) {
      bytes = Buffer.from(reply);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      faults.badChecksum = false;
    }
    if (faults.garbageBefore) bytes = Buffer.concat([garbage(faults.garbageBefore), bytes]);
    const chunks = faults.splitEvery ? split(bytes, faults.splitEvery) : [bytes];
    // A write that fails means the port is gone; the host notices on its own side.
    this.#sending = this.#sending.then(() => this.#write(chunks, delayMs)).catch(() => undefined);
  }

  async #write(chunks: Buffer[], delayMs: number): Promise<void> {
    if (delayMs > 0) await pause(delayMs);
    for (const [i, chunk] of chunks.entries()) {
      if (i > 0) await pause(SPLIT_PAUSE_MS);
      await this.#transport.write(chunk);
    }
  }
}

function commandOf(cmd: number, para: number): SamCommand | null {
  for (const [name, [c, p]] of Object.entries(SAM_COMMANDS)) {
    if (c === cmd && p === para) return name as SamCommand;
  }
  return null;
}

/**
 * Garbage without 0xAA, so it can never form or start a preamble: the parser's resync
 * on lookalike preambles has its own tests in tests/unit/protocol.
 */
function garbage(n: number): Buffer {
  const bytes = randomBytes(n);
  for (let i = 0; i < n; i++) if (bytes[i] === SAM_PREAMBLE[0]) bytes[i] = 0x55;
  return bytes;
}

function split(bytes: Buffer, every: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += every) chunks.push(bytes.subarray(at, at + every));
  return chunks;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A stand-in photo block: 1024 bytes that differ per ID number, so photo hashes differ too. */
export function photoFor(idNumber: string): Buffer {
  const seed = createHash('sha256').update(idNumber).digest();
  const photo = Buffer.alloc(PHOTO_BYTES);
  for (let at = 0; at < PHOTO_BYTES; at += seed.length) seed.copy(photo, at);
  return photo;
}
