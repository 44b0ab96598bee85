// The stage of the fault tests (issue 9): the gateway as a child process, a real
// Mosquitto upstream with the platform's subscriber on it, smoke detectors to load it and
// optionally a front desk, and the one check they all end with: what the devices and the
// check-in API were told is safe, against what arrived upstream (PROTOCOL.md §2.1).
import { join } from 'node:path';
import { startMosquitto, type Mosquitto } from './mosquitto.ts';
import { startSubscriber, type Received, type Subscriber } from './subscriber.ts';
import { gatewayProcess, type GatewayProcess } from './gateway-process.ts';
import { analyse, deliveredDeviceEvents, seqReuses } from './upstream-checks.ts';
import { deskReaders, provisionDesk, type DeskSecrets } from './front-desk.ts';
import { startPubackTap, type PubackTap } from './puback-tap.ts';
import type { LoadDevice } from '../../firmware-sim/load.ts';
import { openDatabase } from '../../gateway/store/db.ts';
import { DeviceRegistry } from '../../gateway/store/devices.ts';

export type FaultScene = {
  upstream: Mosquitto;
  platform: Subscriber;
  gw: GatewayProcess;
  fleet: LoadDevice[];
  desk: DeskSecrets;
  /** Between the gateway and Mosquitto when asked for. */
  tap: PubackTap | undefined;
  destroy(): Promise<void>;
};

/** Started, provisioned and running. */
export async function faultScene(opts: { devices: number; tap?: boolean }): Promise<FaultScene> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const destroy = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const upstream = await startMosquitto();
    cleanups.push(() => upstream.destroy());
    const platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#', { clientId: 'platform-faults' });
    cleanups.push(() => platform.close());
    // The platform's subscription on disk before any crash of the broker, so its session
    // survives the first SIGKILL too.
    await upstream.save();
    const tap = opts.tap ? await startPubackTap(upstream.port) : undefined;
    if (tap) cleanups.push(() => tap.close());
    const gw = await gatewayProcess({ upstream: { url: tap?.url ?? upstream.url }, readers: deskReaders });
    cleanups.push(() => gw.destroy());
    const { desk, fleet } = provision(gw, opts.devices);
    await gw.start();
    return { upstream, platform, gw, fleet, desk, tap, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/**
 * The front desk and the load's detectors, written into the file before the gateway
 * starts: one process, where `menwei device add` would start one per device.
 */
function provision(gw: GatewayProcess, detectors: number): { desk: DeskSecrets; fleet: LoadDevice[] } {
  const db = openDatabase(join(gw.dataDir, 'menwei.db'));
  try {
    const desk = provisionDesk(db, Buffer.from(gw.env.MENWEI_DATA_KEY!, 'hex'));
    const registry = new DeviceRegistry(db);
    const fleet = Array.from({ length: detectors }, (_, i) => registry.add({ id: `smoke-${i}`, kind: 'smoke' }, null, Date.now())).map(({ id, secret }) => ({ id, secret }));
    return { desk, fleet };
  } finally {
    db.close();
  }
}

/** What the gateway acknowledged: device events as `deviceId:deviceSeq`, check-ins by stayId. */
export type Promised = { events: Iterable<string>; stays: Iterable<string> };

type Envelope = { eventId: string; deviceId?: string; data: { deviceSeq?: number; stayId?: string } };

/** The promise an event keeps: `deviceId:deviceSeq` for device events, `stay:<id>` for check-ins. */
function promiseKeys(e: Envelope, topic: string): string[] {
  if (e.deviceId && e.data.deviceSeq !== undefined) return [`${e.deviceId}:${e.data.deviceSeq}`];
  return topic.endsWith('/registration/checkin') && e.data.stayId ? [`stay:${e.data.stayId}`] : [];
}

const keysOf = (promised: Promised) => [...promised.events, ...[...promised.stays].map((s) => `stay:${s}`)];

export type Delivery = {
  /** Acknowledged to a device but never arrived upstream. */
  lostEvents: string[];
  /** Stays with a 201 (or on disk) whose `registration/checkin` never arrived. */
  lostRegistrations: string[];
  duplicates: number;
  orderViolations: string[];
  seqReuses: string[];
};

export function delivery(messages: readonly Received[], promised: Promised): Delivery {
  const report = analyse(messages);
  const arrived = deliveredDeviceEvents(report);
  const registered = new Set(messages.filter((m) => m.topic.endsWith('/registration/checkin')).map((m) => (m.json as { data: { stayId: string } }).data.stayId));
  return {
    lostEvents: [...promised.events].filter((k) => !arrived.has(k)),
    lostRegistrations: [...promised.stays].filter((s) => !registered.has(s)),
    duplicates: report.duplicates,
    orderViolations: report.orderViolations,
    seqReuses: seqReuses(messages),
  };
}

/**
 * Waits until everything promised arrived (or the timeout), then reports. It reads each
 * message once: rescanning a 100,000-message stream on every poll would starve the
 * subscriber that shares this process.
 */
export async function awaitDelivery(platform: Subscriber, promised: Promised, timeoutMs: number): Promise<Delivery> {
  const missing = new Set(keysOf(promised));
  let read = 0;
  const complete = (m: readonly Received[]) => {
    for (; read < m.length; read++) for (const k of promiseKeys(m[read]!.json as Envelope, m[read]!.topic)) missing.delete(k);
    return missing.size === 0;
  };
  await platform.waitFor(complete, timeoutMs).catch(() => undefined);
  return delivery(platform.messages, promised);
}

export type Blame = {
  /** Promised, but the broker never PUBACKed it and it never arrived: the gateway lost it. */
  gateway: string[];
  /** Events the broker PUBACKed that never reached the platform: the broker lost them. */
  broker: number;
};

/**
 * Whose loss is what (ARCHITECTURE.md invariant 3: the gateway's duty ends at the
 * upstream PUBACK), from the tap between them and the platform's subscriber.
 */
export function blame(promised: Promised, messages: readonly Received[], tap: PubackTap): Blame {
  const safe = new Set<string>();
  const arrived = new Set<string>();
  for (const m of messages) {
    const e = m.json as Envelope;
    arrived.add(e.eventId);
    for (const k of promiseKeys(e, m.topic)) safe.add(k);
  }
  let broker = 0;
  for (const [eventId, { envelope, topic }] of tap.acked) {
    for (const k of promiseKeys(envelope as Envelope, topic)) safe.add(k);
    if (!arrived.has(eventId)) broker++;
  }
  return { gateway: keysOf(promised).filter((k) => !safe.has(k)), broker };
}
