// Two ends of a USB-HID link without hardware, both implementing the driver's HidDevice
// (PROTOCOL.md §3 "HID transport"). Reports are 64 bytes. A write may put the hidraw
// report id 0x00 in front (65 bytes, as toHidWrites does); as with hidraw, report id 0
// means "unnumbered" and does not go over the wire, so the other end gets 64 bytes.
import { EventEmitter } from 'node:events';
import type { HidDevice } from '../../gateway/drivers/transport.ts';
import { HID_REPORT_BYTES, HID_WRITE_REPORT_ID } from '../../protocol/hid/report.ts';

export class FakeHidDevice extends EventEmitter implements HidDevice {
  peer: FakeHidDevice | null = null;
  closed = false;
  /** Every report this end was sent, as the wire carried it (64 bytes). */
  readonly received: Buffer[] = [];

  write(data: number[]): number {
    if (this.closed) throw new Error('Cannot write to hid device');
    const withId = data.length === HID_REPORT_BYTES + 1 && data[0] === HID_WRITE_REPORT_ID;
    const report = Buffer.from(withId ? data.slice(1) : data);
    if (report.length !== HID_REPORT_BYTES) throw new Error(`a report is ${HID_REPORT_BYTES} bytes, got ${report.length}`);
    const peer = this.peer;
    queueMicrotask(() => peer?.deliver(report));
    return data.length;
  }

  close(): void {
    if (this.closed) throw new Error('device already closed');
    this.closed = true;
  }

  /** What node-hid does when the device is pulled out: its read loop fails. */
  unplug(): void {
    this.emit('error', new Error('could not read from HID device'));
  }

  deliver(report: Buffer): void {
    if (this.closed) return;
    this.received.push(report);
    this.emit('data', report);
  }
}

/** A reader-side device and a factory for host-side handles, one per open as node-hid gives. */
export function createFakeHidPair(): { device: FakeHidDevice; openHost: () => Promise<FakeHidDevice> } {
  const device = new FakeHidDevice();
  const openHost = async (): Promise<FakeHidDevice> => {
    const host = new FakeHidDevice();
    host.peer = device;
    device.peer = host;
    return host;
  };
  return { device, openHost };
}
