// A front desk for the check-in benchmark (issue 8 §4), all real parts: the gateway as a
// child process (`menwei start`) with a SAM reader on a socat pty, the reader simulator
// on the far end, a face terminal (DeskSim) and a lock (LockSim) over MQTT, the console's
// SSE stream and a Mosquitto upstream. Provisioned offline with the store code the CLI
// runs, before the gateway starts (one `menwei` process per command would add seconds).
import { join } from 'node:path';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { openDatabase } from '../../gateway/store/db.ts';
import { DeviceRegistry } from '../../gateway/store/devices.ts';
import { UnitStore } from '../../gateway/store/units.ts';
import { StaffStore, badgeKeyFrom } from '../../gateway/staff/staff-store.ts';
import { parseDataKey } from '../../gateway/crypto.ts';
import { SerialTransport } from '../../gateway/drivers/transport.ts';
import { openPtyPair, type PtyPair } from '../../firmware-sim/pty.ts';
import { SamReaderSim } from '../../firmware-sim/sam-reader-sim.ts';
import { DeskSim } from '../../firmware-sim/desk-sim.ts';
import { LockSim } from '../../firmware-sim/lock-sim.ts';
import { TimedTransport } from './timed-transport.ts';
import { openConsoleEvents, type ConsoleEvents } from './console-events.ts';

export const UNIT = 'HL-MY-0301';
const READER = 'reader-desk1';
const DESK = 'desk-1';
const LOCK = 'lock-0301';

export type FrontDesk = {
  reader: SamReaderSim;
  /** The reader's side of the serial line, timing the frames written on it. */
  line: TimedTransport;
  lock: LockSim;
  codeKey: string;
  events: ConsoleEvents;
  /** An API call as the logged-in clerk; resolves with the status and the parsed body. */
  api(path: string, body: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
};

export async function startFrontDesk(): Promise<FrontDesk> {
  const pty = await openPtyPair();
  const line = new TimedTransport(new SerialTransport({ path: pty.b }));
  const reader = new SamReaderSim({ transport: line });
  await reader.start();
  const upstream = await startMosquitto();
  const gw = await gatewayProcess({ upstream: { url: upstream.url }, readers: [{ id: READER, transport: 'serial', path: pty.a, desk: DESK }] });
  const { deskSecret, lockSecret, codeKey, token } = provision(gw);
  await gw.start();
  const desk = new DeskSim({ brokerUrl: gw.brokerUrl, id: DESK, secret: deskSecret });
  await desk.start();
  const lock = new LockSim({ brokerUrl: gw.brokerUrl, id: LOCK, secret: lockSecret, codeKey });
  await lock.start();
  const events = await openConsoleEvents(gw.httpUrl, token);
  const api = async (path: string, body: unknown) => {
    const res = await fetch(gw.httpUrl + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };
  return { reader, line, lock, codeKey, events, api, stop: () => stopAll({ pty, reader, upstream, gw, desk, lock, events }) };
}

function provision(gw: GatewayProcess) {
  const db = openDatabase(join(gw.dataDir, 'menwei.db'));
  const dataKey = parseDataKey(gw.env.MENWEI_DATA_KEY);
  const registry = new DeviceRegistry(db);
  const now = Date.now();
  new UnitStore(db).add({ code: UNIT, address: '北京市海淀区某路1号', licensed: true }, now);
  const deskSecret = registry.add({ id: DESK, kind: 'desk' }, null, now).secret;
  const lock = registry.add({ id: LOCK, kind: 'lock', unit: UNIT }, dataKey, now);
  const token = new StaffStore(db, badgeKeyFrom(dataKey)).add({ id: 'clerk-1', name: '王', days: 1 }, now)!.token;
  db.close();
  return { deskSecret, lockSecret: lock.secret, codeKey: lock.codeKey!, token };
}

type Parts = { pty: PtyPair; reader: SamReaderSim; upstream: Mosquitto; gw: GatewayProcess; desk: DeskSim; lock: LockSim; events: ConsoleEvents };

async function stopAll(p: Parts): Promise<void> {
  p.events.close();
  await p.lock.stop();
  await p.desk.stop();
  await p.gw.destroy();
  await p.upstream.destroy();
  await p.reader.stop();
  await p.pty.close();
}
