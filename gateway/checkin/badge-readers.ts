// Staff badge readers (PROTOCOL.md §4): USB-HID keyboard wedges, opened by vendor and
// product id with node-hid's libusb driver so their keystrokes do not also reach a focused
// window. A badge identifies a staff member at the reader's desk for 60 s.
import { BadgeDecoder } from '../../protocol/badge.ts';
import type { Gateway } from '../main.ts';
import type { HidDevice } from '../drivers/transport.ts';
import type { StaffDirectory } from './ports.ts';
import type { BadgeSwipes } from '../staff/badge-swipes.ts';

export type BadgeDeviceOpener = (vendorId: number, productId: number) => Promise<HidDevice>;

export class BadgeReaders {
  private devices: HidDevice[] = [];

  constructor(
    private readonly gw: Gateway,
    private readonly staff: StaffDirectory,
    private readonly swipes: BadgeSwipes,
    private readonly openDevice: BadgeDeviceOpener = openKeyboard,
  ) {}

  start(): void {
    for (const reader of this.gw.config.badgeReaders) {
      this.openDevice(reader.vendorId, reader.productId)
        .then((device) => this.listen(device, reader.desk))
        .catch((err) => this.gw.logger.warn({ err, reader: reader.id }, 'badge reader not available'));
    }
  }

  async stop(): Promise<void> {
    for (const device of this.devices) device.close();
    this.devices = [];
  }

  /** Feeds one device's reports to a decoder; a badge of a known staff member is a swipe. */
  listen(device: HidDevice, desk: string): void {
    this.devices.push(device);
    const decoder = new BadgeDecoder();
    device.on('error', (err) => this.gw.logger.warn({ err, desk }, 'badge reader error'));
    device.on('data', (report) => {
      for (const event of decoder.push(report, this.gw.clock.monotonic())) {
        if (!event.ok) {
          this.gw.metrics.serialErrors.inc({ source: 'badge', code: event.error.code });
          continue;
        }
        const staffId = this.staff.byBadge(event.badge);
        if (staffId) this.swipes.record(staffId, desk, this.gw.clock.monotonic());
        else this.gw.metrics.serialErrors.inc({ source: 'badge', code: 'UNKNOWN_BADGE' });
      }
    });
  }
}

/** node-hid with the libusb driver (ARCHITECTURE.md, Serial and HID), loaded only when used. */
async function openKeyboard(vendorId: number, productId: number): Promise<HidDevice> {
  const hid = await import('node-hid');
  hid.setDriverType?.('libusb');
  return new hid.HID(vendorId, productId) as unknown as HidDevice;
}
