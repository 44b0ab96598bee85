// A hostile ID card reader on the device end of a serial line (PROTOCOL.md §3; issue 9).
// It answers the gateway's polling like a reader with no card, except where a script
// says otherwise: then the next command of that kind gets the script's bytes, which may
// be garbage, a truncated frame, a bad CHK or LEN, an unknown status, or a read whose
// card text is junk. fast-check builds the scripts.
import fc from 'fast-check';
import type { ByteTransport } from '../../gateway/drivers/transport.ts';
import {
  CARD_TEXT_BYTES, SAM_COMMANDS, SAM_PREAMBLE, SW3, SamParser, encodeReadResponse, encodeResponse,
  type CardFields, type SamCommand,
} from '../../protocol/sam/index.ts';

export type Step = { on: SamCommand; bytes: Buffer };
export type Script = { name: string; steps: Step[] };

const PHOTO = Buffer.alloc(1024, 0x5a);
const found = encodeResponse(SW3.cardFound, Buffer.alloc(4));
const selected = encodeResponse(SW3.ok, Buffer.alloc(8));
const DEFAULTS: Record<SamCommand, Buffer> = {
  status: encodeResponse(SW3.ok),
  samId: encodeResponse(SW3.ok, Buffer.alloc(16, 5)),
  find: encodeResponse(SW3.noCard),
  select: encodeResponse(SW3.selectFailed),
  read: encodeResponse(SW3.readFailed),
};

/** The steps that put a card on the reader and answer its read with `read`. */
export const cardRead = (read: Buffer): Step[] => [{ on: 'find', bytes: found }, { on: 'select', bytes: selected }, { on: 'read', bytes: read }];

export const validRead = (fields: CardFields): Step[] => cardRead(encodeReadResponse(fields, PHOTO));

/** A read response (SW3 90) with these length fields and blocks, its CHK correct. */
function readFrame(textLen: number, photoLen: number, text: Buffer, photo: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(textLen, 0);
  head.writeUInt16BE(photoLen, 2);
  return encodeResponse(SW3.ok, Buffer.concat([head, text, photo]));
}

/** 256 bytes of random UCS-2 text; the card type char (offset 248) is never I or Y, so each is a bad resident card. */
const junkText = fc.uint8Array({ minLength: CARD_TEXT_BYTES, maxLength: CARD_TEXT_BYTES }).map((b) => {
  const text = Buffer.from(b);
  text.write(' ', 248, 'utf16le');
  return text;
});

/** Well-formed fields whose ID number fails its check character (PROTOCOL.md §6). */
const FALLBACK_CARD: CardFields = {
  name: '李四', gender: 'male', nation: '01', birth: '1990-03-07', address: '江苏省常州市', idNumber: '320402199003071230',
  authority: '常州市公安局', validFrom: '2015-01-01', validTo: '2035-01-01', docType: 'resident',
};

export const hostileScripts: fc.Arbitrary<Script> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => ({ name: 'random bytes for find', steps: [{ on: 'find' as const, bytes: Buffer.from(b) }] })),
  fc.nat().map((cut) => ({ name: 'a find reply cut short', steps: [{ on: 'find' as const, bytes: found.subarray(0, 1 + (cut % (found.length - 1))) }] })),
  fc.integer({ min: 1, max: 255 }).map((x) => {
    const bytes = Buffer.from(found);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ x;
    return { name: 'a find reply with a bad CHK', steps: [{ on: 'find' as const, bytes }] };
  }),
  fc.integer({ min: 4090, max: 0xffff }).map((len) => ({ name: `a LEN of ${len}`, steps: [{ on: 'find' as const, bytes: Buffer.concat([SAM_PREAMBLE, Buffer.from([len >> 8, len & 0xff, 0, 0, 0x9f])]) }] })),
  fc.integer({ min: 0, max: 2 }).map((len) => ({ name: `a LEN of ${len}`, steps: [{ on: 'find' as const, bytes: Buffer.concat([SAM_PREAMBLE, Buffer.from([0, len, 0])]) }] })),
  fc.integer({ min: 0, max: 255 }).filter((s) => ![SW3.ok, SW3.cardFound, SW3.noCard].includes(s as never)).map((sw3) => ({ name: `SW3 ${sw3.toString(16)} for find`, steps: [{ on: 'find' as const, bytes: encodeResponse(sw3) }] })),
  junkText.map((text) => ({ name: 'a read of junk card text', steps: cardRead(readFrame(CARD_TEXT_BYTES, PHOTO.length, text, PHOTO)) })),
  fc.record({ textLen: fc.integer({ min: 0, max: 0xffff }), photoLen: fc.integer({ min: 0, max: 0xffff }) })
    .filter(({ textLen, photoLen }) => textLen !== CARD_TEXT_BYTES || photoLen !== PHOTO.length)
    .map(({ textLen, photoLen }) => ({ name: `a read announcing text ${textLen} and photo ${photoLen}`, steps: cardRead(readFrame(textLen, photoLen, Buffer.alloc(CARD_TEXT_BYTES, 0x20), PHOTO)) })),
  fc.nat().map((cut) => {
    const whole = encodeReadResponse(FALLBACK_CARD, PHOTO);
    return { name: 'a read cut short', steps: cardRead(whole.subarray(0, 1 + (cut % (whole.length - 1)))) };
  }),
  fc.integer({ min: 1, max: 255 }).map((x) => {
    const bytes = encodeReadResponse(FALLBACK_CARD, PHOTO);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ x;
    return { name: 'a read with a bad CHK', steps: cardRead(bytes) };
  }),
);

/**
 * The reader. `serve(script)` queues a script and resolves once the gateway has sent the
 * command after its last step, so it has dealt with every reply of the script.
 */
export class HostileReader {
  private readonly parser = new SamParser();
  private readonly queue: Step[] = [];
  private waiter: (() => void) | null = null;
  private armed = false;
  readonly commands: Record<SamCommand, number> = { status: 0, samId: 0, find: 0, select: 0, read: 0 };

  constructor(private readonly transport: ByteTransport) {}

  async start(): Promise<void> {
    this.transport.onData((chunk) => this.onBytes(chunk));
    await this.transport.open();
  }

  stop(): Promise<void> {
    return this.transport.close();
  }

  serve(steps: Step[]): Promise<void> {
    this.queue.push(...steps);
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  private onBytes(chunk: Buffer): void {
    for (const result of this.parser.push(chunk)) {
      if (!result.ok || result.frame.dir !== 'command') continue;
      const { cmd, para } = result.frame;
      const name = (Object.keys(SAM_COMMANDS) as SamCommand[]).find((k) => SAM_COMMANDS[k][0] === cmd && SAM_COMMANDS[k][1] === para);
      if (!name) continue;
      this.commands[name]++;
      this.answer(name);
    }
  }

  private answer(name: SamCommand): void {
    if (this.armed && this.queue.length === 0) {
      this.armed = false;
      const done = this.waiter;
      this.waiter = null;
      done?.();
    }
    const step = this.queue[0]?.on === name ? this.queue.shift() : undefined;
    if (step && this.queue.length === 0) this.armed = true;
    void this.transport.write(step?.bytes ?? DEFAULTS[name]);
  }
}
