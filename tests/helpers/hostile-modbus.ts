// A hostile Modbus RTU slave on the device end of an RS-485 line (PROTOCOL.md §5; issue
// 9). It answers the gateway master's read-input-registers polls with a quiet, healthy
// detector's registers, except where a script says otherwise: then the next poll gets
// garbage, a wrong CRC, another address or function, an exception, a short or padded
// reply, silence, or a reply after the master's timeout. Every hostile reply carries
// registers with every status bit set, so a gateway that took one for the detector's
// answer would raise a false alarm: the tests look for that.
import fc from 'fast-check';
import type { ByteTransport } from '../../gateway/drivers/transport.ts';

export type Reply = { name: string; bytes: Buffer; delayMs?: number };

const ALL_BITS = [0xffff, 100, 1000];

/** CRC-16/MODBUS, low byte first on the wire. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function withCrc(body: number[]): Buffer {
  const crc = crc16(Uint8Array.from(body));
  return Buffer.from([...body, crc & 0xff, crc >> 8]);
}

/** A function-4 reply of `registers`, as a slave at `address` sends it. */
export function registersReply(address: number, registers: number[], fn = 0x04): Buffer {
  return withCrc([address, fn, registers.length * 2, ...registers.flatMap((r) => [r >> 8, r & 0xff])]);
}

export function hostileReplies(address: number, timeoutMs: number): fc.Arbitrary<Reply> {
  const alarm = registersReply(address, ALL_BITS);
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ name: 'random bytes', bytes: Buffer.from(b) })),
    fc.integer({ min: 1, max: 0xffff }).map((x) => {
      const bytes = Buffer.from(alarm);
      bytes.writeUInt16LE(bytes.readUInt16LE(bytes.length - 2) ^ x, bytes.length - 2);
      return { name: 'a wrong CRC', bytes };
    }),
    fc.integer({ min: 0, max: 255 }).filter((a) => a !== address).map((a) => ({ name: `address ${a} answering`, bytes: registersReply(a, ALL_BITS) })),
    fc.integer({ min: 1, max: 0x7f }).filter((f) => f !== 0x04).map((f) => ({ name: `function ${f} in the reply`, bytes: registersReply(address, ALL_BITS, f) })),
    fc.integer({ min: 1, max: 11 }).map((code) => ({ name: `exception ${code}`, bytes: withCrc([address, 0x84, code]) })),
    fc.constantFrom(0, 1, 2, 4, 5).map((n) => ({ name: `${n} of 3 registers`, bytes: withCrc([address, 0x04, n * 2, ...Array(n * 2).fill(0xff)]) })),
    fc.nat().map((cut) => ({ name: 'a reply cut short', bytes: alarm.subarray(0, 1 + (cut % (alarm.length - 1))) })),
    fc.constant({ name: 'silence', bytes: Buffer.alloc(0) }),
    // Late, but well before the master's next request to this slave, which flushes it. RTU
    // has no transaction ids: a reply later than that would pass for the next answer, and
    // no master can tell (so the caller polls every 3 timeouts or slower).
    fc.constantFrom(1.25, 1.5).map((k) => ({ name: `a reply ${k}× the timeout late`, bytes: alarm, delayMs: timeoutMs * k })),
  );
}

/**
 * The slave. `serve(reply)` answers the next poll with it and resolves at the poll after
 * that, so the master has dealt with the reply (or its timeout) by then.
 */
export class HostileSlave {
  private buffer = Buffer.alloc(0);
  private pending: Reply | undefined;
  private waiter: (() => void) | undefined;
  private armed = false;
  polls = 0;
  registers = [0, 100, 0];

  constructor(private readonly transport: ByteTransport, private readonly address: number) {}

  async start(): Promise<void> {
    this.transport.onData((chunk) => this.onBytes(chunk));
    await this.transport.open();
  }

  stop(): Promise<void> {
    return this.transport.close();
  }

  serve(reply: Reply): Promise<void> {
    this.pending = reply;
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  private onBytes(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    // Requests are 8 bytes: address, 0x04, start, count, CRC (PROTOCOL.md §5).
    while (this.buffer.length >= 8) {
      const request = this.buffer.subarray(0, 8);
      this.buffer = this.buffer.subarray(8);
      if (request[0] === this.address && crc16(request) === 0) this.answer();
    }
  }

  private answer(): void {
    this.polls++;
    if (this.armed) {
      this.armed = false;
      const done = this.waiter;
      this.waiter = undefined;
      done?.();
    }
    const reply = this.pending;
    this.pending = undefined;
    if (reply) this.armed = true;
    const bytes = reply?.bytes ?? registersReply(this.address, this.registers);
    if (bytes.length === 0) return;
    if (reply?.delayMs) setTimeout(() => void this.transport.write(bytes).catch(() => undefined), reply.delayMs);
    else void this.transport.write(bytes).catch(() => undefined);
  }
}
