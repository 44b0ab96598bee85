// The check-in feature (CHECKIN.md; issue 4): card readers (serial, HID, network), face
// terminals, staff badges, the decision and registration, stays and their commands, and
// the HTTP routes. Constructed with the locks and staff features it relies on.
import type { Feature } from '../feature.ts';
import type { Gateway } from '../main.ts';
import { every } from '../maintenance.ts';
import { SamReader } from '../drivers/sam-reader.ts';
import { HidTransport, SerialTransport, openHidDevice, type ByteTransport } from '../drivers/transport.ts';
import { ReadRegistry } from './reads.ts';
import { StayStore } from './stays.ts';
import { PersonalData } from './personal-data.ts';
import { CheckinContext } from './context.ts';
import { CheckinService } from './checkin-service.ts';
import { StayLifecycle } from './stay-commands.ts';
import { FrontDesk } from './front-desk.ts';
import { registerCheckinRoutes } from './checkin-routes.ts';
import { BadgeReaders } from './badge-readers.ts';
import type { LockCodes, StaffDirectory } from './ports.ts';
import { BadgeSwipes } from '../staff/badge-swipes.ts';

type ReaderEntry = Gateway['config']['readers'][number];

export type CheckinFeatureOptions = {
  locks: LockCodes;
  staff: StaffDirectory;
  /** Opens a reader's byte transport; tests pass a pty path or a fake HID device here. */
  transportFor?: (reader: ReaderEntry) => ByteTransport | null;
};

const SWEEP_MS = 30_000;
const PURGE_MS = 3_600_000;
const DAY_MS = 86_400_000;

export class CheckinFeature implements Feature {
  readonly badges = new BadgeSwipes();
  readonly reads = new ReadRegistry();
  service!: CheckinService;
  stays!: StayLifecycle;
  desk!: FrontDesk;
  private gw!: Gateway;
  private readers: SamReader[] = [];
  private badgeReaders!: BadgeReaders;
  private stops: Array<() => void> = [];

  constructor(private readonly opts: CheckinFeatureOptions) {}

  attach(gw: Gateway): void {
    this.gw = gw;
    const readerIds = () => new Set(gw.config.readers.map((r) => r.id));
    const context = new CheckinContext({
      db: gw.db, units: gw.units, stays: new StayStore(gw.db), reads: this.reads, personal: new PersonalData(gw.dataKey),
      locks: this.opts.locks, staff: this.opts.staff, badges: this.badges, bus: gw.bus, policy: gw.config.policy,
      timezone: gw.config.timezone, clock: gw.clock, log: gw.logger.child({ component: 'checkin' }), readerIds,
    });
    this.service = new CheckinService(context);
    this.stays = new StayLifecycle(context);
    this.desk = new FrontDesk({
      reads: this.reads, bus: gw.bus, clock: gw.clock, log: gw.logger.child({ component: 'desk' }),
      readers: () => gw.config.readers, publish: (topic, payload) => gw.broker.publish(topic, payload, { qos: 1 }),
      countError: (source, code) => gw.metrics.serialErrors.inc({ source: 'reader', code }),
    });
    gw.ingest.on('desk', 'verify', (tx, device, message) => this.desk.onVerify(tx, device.id, message.payload));
    gw.ingest.on('reader', 'read', (tx, device, message) => this.desk.onNetworkRead(tx, device.id, message.payload));
    this.stays.register(gw.commands);
    gw.unitSuspendHooks.push((tx, unit) => void this.opts.locks.revokeCodes(tx, { unit }));
    registerCheckinRoutes(gw.http, gw, this.service, this.stays, this.reads);
    this.badgeReaders = new BadgeReaders(gw, this.opts.staff, this.badges);
  }

  start(): void {
    for (const reader of this.gw.config.readers) this.startReader(reader);
    this.badgeReaders.start();
    const onError = (err: unknown) => this.gw.logger.error({ err }, 'check-in upkeep failed');
    this.stops.push(every(SWEEP_MS, () => this.gw.transact((tx) => void this.stays.checkoutDue(tx)), onError));
    this.stops.push(every(PURGE_MS, async () => void (await this.purge()), onError));
  }

  async stop(): Promise<void> {
    for (const stop of this.stops) stop();
    await Promise.all(this.readers.map((r) => r.stop()));
    await this.badgeReaders.stop();
  }

  /** Console login by badge: a swipe at the desk in the last 30 s, used up. */
  badgeLogin(desk: string): string | undefined {
    return this.badges.takeAtDesk(desk, this.gw.clock.monotonic(), 30_000);
  }

  /** Registered occupants of a unit now, for alarm/smoke (PROTOCOL.md §1.4). */
  occupants(unit: string | null): number {
    return this.stays.occupants(unit);
  }

  /** ARCHITECTURE.md invariant 8: personal data of closed stays is erased after the retention period. */
  purge(): Promise<number> {
    const cutoff = this.gw.clock.now() - this.gw.config.retention.personalDataDays * DAY_MS;
    return this.gw.transact(() => new StayStore(this.gw.db).purgePersonalData(cutoff));
  }

  private startReader(reader: ReaderEntry): void {
    const transport = this.opts.transportFor?.(reader) ?? defaultTransport(reader);
    if (!transport) return;
    const log = this.gw.logger.child({ component: 'reader', readerId: reader.id });
    const sam = new SamReader({
      id: reader.id, transport, clock: this.gw.clock, logger: log,
      onCard: ({ card, photo }) => void this.desk.onCard(reader.id, card, photo),
      onUnsupported: () => void this.desk.onCard(reader.id, { docType: 'foreign-permanent' }, null),
      onState: (online) => this.readerState(reader.id, online, log),
      onError: (code) => this.gw.metrics.serialErrors.inc({ source: 'reader', code }),
    });
    // PROTOCOL.md §3: the driver, not heartbeats, says whether the reader is there; its
    // transitions are device/online and device/offline like any device's (§1.1).
    this.gw.presence.track({ id: reader.id, kind: 'reader', unit: null }, { heartbeat: false });
    sam.start();
    this.readers.push(sam);
  }

  private readerState(id: string, online: boolean, log: Gateway['logger']): void {
    log.info({ online }, online ? 'reader online' : 'reader offline');
    const device = { id, kind: 'reader' as const, unit: null };
    this.gw.transact((tx) => this.gw.presence.driverState(tx, device, online))
      .catch((err: unknown) => log.error({ err }, 'reader state not committed'));
  }
}

/** Serial and HID readers get their transport from config; network readers have none. */
function defaultTransport(reader: ReaderEntry): ByteTransport | null {
  if (reader.transport === 'serial') return new SerialTransport({ path: reader.path, baudRate: reader.baudRate });
  if (reader.transport === 'hid') return new HidTransport({ openDevice: () => openHidDevice(reader.vendorId, reader.productId) });
  return null;
}
