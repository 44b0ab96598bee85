// aedes has no packet-size limit (ARCHITECTURE.md, aedes notes). This guard sits between
// the socket and aedes, follows MQTT fixed headers as bytes pass, and closes the socket
// as soon as a header announces a packet over the limit, before its body is buffered
// (PROTOCOL.md §1: 64 KiB + 1 KiB).
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export const MAX_PACKET_BYTES = 64 * 1024 + 1024;

/** Incremental MQTT fixed-header walker: type byte, remaining length (varint), body. */
export class PacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private bodyLeft = 0;

  constructor(private readonly maxBytes = MAX_PACKET_BYTES) {}

  /** Returns false as soon as a header announces too much, or the varint is malformed. */
  accept(chunk: Uint8Array): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        if (this.bodyLeft === 0) this.state = 'type';
      } else if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        i++;
      } else if (!this.acceptLengthByte(chunk[i++]!)) {
        return false;
      }
    }
    return true;
  }

  private acceptLengthByte(byte: number): boolean {
    this.length += (byte & 0x7f) * this.multiplier;
    this.multiplier *= 128;
    if (this.length > this.maxBytes) return false;
    if (byte & 0x80) return this.multiplier <= 128 ** 3; // [MQTT-2.2.3]: at most 4 bytes
    this.bodyLeft = this.length;
    this.state = this.length === 0 ? 'type' : 'body';
    return true;
  }
}

/**
 * Wraps a socket in a duplex that aedes reads from. Bytes pass through unchanged until
 * the guard refuses a header; then the socket is destroyed and `onOversize` is told.
 */
export function guardSocket(socket: Socket, onOversize: () => void, maxBytes = MAX_PACKET_BYTES): Duplex & { remoteAddress?: string } {
  const guard = new PacketSizeGuard(maxBytes);
  let corked = false;
  const wrapped: Duplex & { remoteAddress?: string } = new Duplex({
    read: () => socket.resume(),
    // The PUBACKs that one group commit releases go out in one write: the socket is
    // corked until the end of the tick. Backpressure still holds through 'drain'.
    write: (chunk, _enc, cb) => {
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(() => {
          corked = false;
          socket.uncork();
        });
      }
      if (socket.write(chunk)) cb();
      else socket.once('drain', () => cb());
    },
    final: (cb) => socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  wrapped.remoteAddress = socket.remoteAddress;
  socket.on('data', (chunk: Buffer) => {
    if (!guard.accept(chunk)) {
      onOversize();
      socket.destroy();
      return;
    }
    if (!wrapped.push(chunk)) socket.pause();
  });
  socket.on('end', () => wrapped.push(null));
  socket.on('close', () => wrapped.destroy());
  socket.on('error', (err) => wrapped.destroy(err));
  return wrapped;
}
