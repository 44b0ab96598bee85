// An in-memory cable between a host and a device ByteTransport, for tests and demos
// that need no pty. Bytes arrive in a later microtask, as from real I/O. Unplugging
// behaves like a socat pty losing its peer (ARCHITECTURE.md "Serial and HID"): nothing
// is reported until the next write fails with EIO, and opening fails until replugged.
import type { ByteTransport } from '../gateway/drivers/transport.ts';

export type BytePipe = {
  host: ByteTransport;
  device: ByteTransport;
  unplug(): void;
  replug(): void;
};

type Cable = { plugged: boolean };

const ignore = (): void => undefined;

class PipeEnd implements ByteTransport {
  peer: PipeEnd | null = null;
  #open = false;
  #onData: (chunk: Buffer) => void = ignore;
  #onClose: (err?: Error) => void = ignore;

  constructor(private readonly cable: Cable) {}

  onData(cb: (chunk: Buffer) => void): void {
    this.#onData = cb;
  }

  onClose(cb: (err?: Error) => void): void {
    this.#onClose = cb;
  }

  async open(): Promise<void> {
    if (!this.cable.plugged) throw Object.assign(new Error('ENOENT: no such device'), { code: 'ENOENT' });
    this.#open = true;
  }

  async write(bytes: Buffer): Promise<void> {
    if (!this.#open) throw new Error('port is not open');
    if (!this.cable.plugged) {
      const err = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      this.#open = false;
      this.#onClose(err);
      throw err;
    }
    const copy = Buffer.from(bytes);
    const peer = this.peer;
    queueMicrotask(() => peer?.receive(copy));
  }

  async close(): Promise<void> {
    this.#open = false;
  }

  /** Bytes sent to a closed end are lost, as on a serial line. */
  receive(chunk: Buffer): void {
    if (this.#open && this.cable.plugged) this.#onData(chunk);
  }
}

export function createBytePipe(): BytePipe {
  const cable: Cable = { plugged: true };
  const host = new PipeEnd(cable);
  const device = new PipeEnd(cable);
  host.peer = device;
  device.peer = host;
  return {
    host,
    device,
    unplug: () => {
      cable.plugged = false;
    },
    replug: () => {
      cable.plugged = true;
    },
  };
}
