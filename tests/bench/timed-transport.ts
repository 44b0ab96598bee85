// A byte transport that tells when a given frame has been written in full: the start of
// the check-in latency (issue 8 §4) is the moment the last byte of the SAM read response
// is on the serial line. It wraps the reader simulator's real SerialTransport.
import type { ByteTransport } from '../../gateway/drivers/transport.ts';

type Watch = { bytes: Buffer; resolve: (at: number) => void };

export class TimedTransport implements ByteTransport {
  #watch: Watch | null = null;

  constructor(private readonly inner: ByteTransport) {}

  /**
   * Resolves with `performance.now()` once a write of exactly these bytes has completed
   * (serialport calls back when the binding has handed the bytes to the pty).
   */
  writeOf(bytes: Buffer): Promise<number> {
    return new Promise((resolve) => {
      this.#watch = { bytes, resolve };
    });
  }

  async write(bytes: Buffer): Promise<void> {
    await this.inner.write(bytes);
    const watch = this.#watch;
    if (watch === null || !bytes.equals(watch.bytes)) return;
    this.#watch = null;
    watch.resolve(performance.now());
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.inner.onData(cb);
  }

  onClose(cb: (err?: Error) => void): void {
    this.inner.onClose(cb);
  }
}
