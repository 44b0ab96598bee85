// Byte transports under the SAM reader driver (PROTOCOL.md §3: serial, HID). The
// driver only sees a byte stream; the hardware is injected (STYLE.md §3): a serialport
// binding for serial, a small HidDevice interface for HID.
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { SerialPort } from 'serialport';
import { fromHidReport, toHidWrites } from '../../protocol/hid/report.ts';

/**
 * A byte stream to a device that can be reopened after it closes. One callback each
 * for data and close (the latest registration wins); they outlive close() and open().
 * `onClose` reports a close the transport did not ask for (device gone, EIO), never
 * one caused by `close()`.
 */
export interface ByteTransport {
  open(): Promise<void>;
  write(bytes: Buffer): Promise<void>;
  onData(cb: (chunk: Buffer) => void): void;
  onClose(cb: (err?: Error) => void): void;
  close(): Promise<void>;
}

const ignore = (): void => undefined;

export type SerialTransportOptions = {
  path: string;
  /** The serialport binding; serialport's auto-detected native binding when absent. */
  binding?: BindingInterface;
  baudRate?: number;
};

/** PROTOCOL.md §3: SAM readers speak 115200 8N1. */
const SAM_BAUD_RATE = 115_200;

export class SerialTransport implements ByteTransport {
  readonly #opts: SerialTransportOptions;
  #port: SerialPort | null = null;
  #onData: (chunk: Buffer) => void = ignore;
  #onClose: (err?: Error) => void = ignore;

  constructor(opts: SerialTransportOptions) {
    this.#opts = opts;
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.#onData = cb;
  }

  onClose(cb: (err?: Error) => void): void {
    this.#onClose = cb;
  }

  /**
   * A new SerialPort per open: a port that failed a write is a destroyed stream and
   * cannot be reused. A port still held (its hang-up not yet noticed) is closed first.
   */
  async open(): Promise<void> {
    await this.close();
    const port = new SerialPort(this.#portOptions());
    port.on('data', (chunk: Buffer) => {
      if (this.#port === port) this.#onData(chunk);
    });
    // Write errors reach write()'s promise and a disconnect reaches 'close'; the listener
    // only keeps a stream error from being thrown as unhandled.
    port.on('error', ignore);
    port.on('close', (err: Error | null) => {
      if (this.#port !== port) return;
      this.#port = null;
      this.#onClose(err ?? undefined);
    });
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) return reject(err);
        this.#port = port;
        resolve();
      });
    });
  }

  write(bytes: Buffer): Promise<void> {
    const port = this.#port;
    if (port === null) return Promise.reject(new Error(`serial port ${this.#opts.path} is not open`));
    return new Promise((resolve, reject) => {
      port.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    const port = this.#port;
    this.#port = null;
    if (port === null || !port.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }

  /**
   * SerialPort's option type leaves out `binding`, yet its constructor spreads the
   * options over its default binding, so an injected one (MockBinding in tests) wins.
   * Built as a variable, not a literal, so the extra key type-checks.
   */
  #portOptions(): ConstructorParameters<typeof SerialPort>[0] {
    const { path, binding, baudRate = SAM_BAUD_RATE } = this.#opts;
    const options = { path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false, ...(binding && { binding }) } as const;
    return options;
  }
}

/** The part of node-hid's `HID.HID` the driver uses, so tests can pass a fake. */
export interface HidDevice {
  write(data: number[]): number;
  on(event: 'data', cb: (report: Buffer) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
  close(): void;
}

export type HidTransportOptions = {
  /** Opens the device anew; called on every open(), since a HID device that failed stays failed. */
  openDevice: () => Promise<HidDevice>;
  /** A report whose length byte is impossible (MW_HID_BAD_REPORT); it is dropped. */
  onBadReport?: (detail: string) => void;
};

/** PROTOCOL.md §3 "HID transport": 64-byte reports whose payloads form the serial byte stream. */
export class HidTransport implements ByteTransport {
  readonly #opts: HidTransportOptions;
  #device: HidDevice | null = null;
  #onData: (chunk: Buffer) => void = ignore;
  #onClose: (err?: Error) => void = ignore;

  constructor(opts: HidTransportOptions) {
    this.#opts = opts;
  }

  onData(cb: (chunk: Buffer) => void): void {
    this.#onData = cb;
  }

  onClose(cb: (err?: Error) => void): void {
    this.#onClose = cb;
  }

  async open(): Promise<void> {
    const device = await this.#opts.openDevice();
    device.on('data', (report) => {
      if (this.#device === device) this.#onReport(report);
    });
    // node-hid reports an unplugged device as an 'error' from its read loop.
    device.on('error', (err) => {
      if (this.#device !== device) return;
      this.#device = null;
      closeQuietly(device);
      this.#onClose(err);
    });
    this.#device = device;
  }

  async write(bytes: Buffer): Promise<void> {
    const device = this.#device;
    if (device === null) throw new Error('HID device is not open');
    for (const report of toHidWrites(bytes)) device.write([...report]);
  }

  async close(): Promise<void> {
    const device = this.#device;
    this.#device = null;
    if (device !== null) closeQuietly(device);
  }

  #onReport(report: Buffer): void {
    const result = fromHidReport(report);
    if (result.ok) this.#onData(result.payload);
    else this.#opts.onBadReport?.(result.error.detail);
  }
}

/** Closing a device that is already gone throws in node-hid; there is nothing left to release. */
function closeQuietly(device: HidDevice): void {
  try {
    device.close();
  } catch {
    // already closed by the OS
  }
}

/**
 * Production HidDevice: node-hid, imported on first use so the native module loads only
 * on gateways that have HID readers configured.
 */
export async function openHidDevice(vendorId: number, productId: number): Promise<HidDevice> {
  const { HID } = await import('node-hid');
  return new HID(vendorId, productId);
}
