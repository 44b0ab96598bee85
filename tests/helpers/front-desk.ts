// The full check-in path against the gateway as a child process (CHECKIN.md): a network
// reader publishes the card over MQTT (PROTOCOL.md §1.6), a DeskSim answers the face
// check (§1.5), and the clerk POSTs /api/checkins with a Bearer token. The fault tests
// run it while they SIGKILL the gateway or the upstream, so it survives both: a desk
// lives between two crashes, and a loop of check-ins opens a fresh one after each.
import type { MqttClient } from 'mqtt';
import type { GatewayProcess } from './gateway-process.ts';
import { connectDevice } from './gateway.ts';
import { PHOTO, cardFor, idNumber } from './checkin-setup.ts';
import { DeskSim } from '../../firmware-sim/desk-sim.ts';
import { encodeReadResponse } from '../../protocol/sam/index.ts';
import { isoTime } from '../../protocol/time.ts';
import type { Db } from '../../gateway/store/db.ts';
import { DeviceRegistry } from '../../gateway/store/devices.ts';
import { UnitStore } from '../../gateway/store/units.ts';
import { StaffStore } from '../../gateway/staff/staff-store.ts';

/**
 * Units with one lock each, taken in turn: a lock holds at most 200 live codes
 * (PROTOCOL.md §1.3), and a full-size run checks in more guests than that.
 */
export const DESK_UNITS = Array.from({ length: 8 }, (_, i) => ({ code: `HL-CR-01${i + 1}0`, lock: `lock-cr-01${i + 1}0` }));
const READER = 'reader-net';
const DESK = 'desk-1';

/** The `readers` config the gateway needs for the desk's network reader. */
export const deskReaders = [{ id: READER, transport: 'network', desk: DESK }];

export type DeskSecrets = { reader: string; desk: string; token: string };
/** One POST: its reply status, or `lost` when the crash cut the connection first. */
export type Outcome = { id: string; status: number | 'lost'; stayId?: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mask = (id: string) => `${id.slice(0, 6)}********${id.slice(14)}`;

/**
 * The desk's devices, its units with their locks and a clerk, written into the gateway's file
 * (what `menwei device add`, `unit add --lock` and `staff add` do, tested in tests/e2e).
 */
export function provisionDesk(db: Db, dataKey: Buffer): DeskSecrets {
  return db.transaction(() => {
    const registry = new DeviceRegistry(db);
    for (const unit of DESK_UNITS) {
      registry.add({ id: unit.lock, kind: 'lock' }, dataKey, Date.now());
      new UnitStore(db).add({ code: unit.code, address: '上海市黄浦区某路1号', licensed: true }, Date.now());
      registry.assignUnit(unit.lock, unit.code);
    }
    const reader = registry.add({ id: READER, kind: 'reader' }, null, Date.now()).secret;
    const desk = registry.add({ id: DESK, kind: 'desk' }, null, Date.now()).secret;
    const token = new StaffStore(db, null).add({ id: 'clerk-1', name: '王', days: 30 }, Date.now())!.token;
    return { reader, desk, token };
  })();
}

/** A fresh, well-formed guest number each call: 999 sequence numbers per birthday. */
export function guestNumbers(): () => string {
  let n = 0;
  return () => {
    const birth = new Date(Date.UTC(1960, 0, 1 + Math.floor(n / 999))).toISOString().slice(0, 10);
    return idNumber(birth, (n++ % 999) + 1, '310101');
  };
}

/** One front desk between two crashes: a network reader, a face terminal and the HTTP API. */
export class FrontDesk {
  private constructor(
    private readonly gw: GatewayProcess,
    private readonly token: string,
    private readonly reader: MqttClient,
    private readonly desk: DeskSim,
    readonly outcomes: Outcome[],
  ) {}

  /** `outcomes` collects every POST's outcome; pass one array to keep them across desks. */
  static async open(gw: GatewayProcess, s: DeskSecrets, outcomes: Outcome[] = []): Promise<FrontDesk> {
    const desk = new DeskSim({ brokerUrl: gw.brokerUrl, id: DESK, secret: s.desk, score: 0.94 });
    await desk.start();
    const reader = await connectDevice(gw.brokerUrl, READER, s.reader).catch(async (err: unknown) => {
      await desk.stop();
      throw err;
    });
    reader.on('error', () => undefined);
    return new FrontDesk(gw, s.token, reader, desk, outcomes);
  }

  async close(): Promise<void> {
    this.reader.end(true);
    await Promise.race([this.desk.stop(), sleep(500)]);
  }

  /** Card on the reader, wait for the verified read, and return the (unsent) check-in POST. */
  async prepare(id: string, unit: string): Promise<() => Promise<Response>> {
    const frame = encodeReadResponse(cardFor(id, { name: `客人${id.slice(-4)}` }), PHOTO).toString('base64');
    await this.publishRead(JSON.stringify({ v: 1, ts: isoTime(Date.now()), frame }));
    let readId: string | undefined;
    for (let tries = 0; !readId; tries++) {
      if (tries > 200) throw new Error(`no verified read for ${mask(id)}`);
      const res = await this.api('GET', `/api/reads?desk=${DESK}`);
      const { reads } = (await res.json()) as { reads: Array<{ readId: string; card: { idNumber?: string }; verification: { state: string } }> };
      readId = reads.find((r) => r.card.idNumber === mask(id) && r.verification.state === 'received')?.readId;
      if (!readId) await sleep(10);
    }
    const body = { readId, unit, expectedCheckout: isoTime(Date.now() + 86_400_000) };
    return () => this.api('POST', '/api/checkins', body);
  }

  /** Sends the POST; a reply is recorded, a connection lost to the crash is `lost`. */
  send(id: string, post: () => Promise<Response>): Promise<Outcome> {
    return post()
      .then(async (res) => {
        const body = (await res.json()) as { stayId?: string };
        return { id, status: res.status, ...(body.stayId ? { stayId: body.stayId } : {}) };
      })
      .catch((): Outcome => ({ id, status: 'lost' }))
      .then((outcome) => {
        this.outcomes.push(outcome);
        return outcome;
      });
  }

  /** QoS 1; a crash before the PUBACK would leave the publish pending for ever, so the close ends it. */
  private publishRead(payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.reader.connected) return reject(new Error('reader connection closed'));
      const onClose = () => reject(new Error('reader connection closed'));
      this.reader.once('close', onClose);
      this.reader.publishAsync(`menwei/reader/${READER}/read`, payload, { qos: 1 })
        .then(() => resolve(), reject)
        .finally(() => this.reader.off('close', onClose));
    });
  }

  private api(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(this.gw.httpUrl + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }
}

/**
 * Check-ins one after another, for as long as it runs, across gateway crashes: when a
 * crash cuts the desk off it waits until the HTTP API answers again (any status: /healthz
 * fails while the upstream is down, and check-ins go on then) and opens a fresh desk.
 */
export class CheckinLoop {
  readonly outcomes: Outcome[] = [];
  private running = false;
  private done: Promise<void> = Promise.resolve();
  private postSent: Array<() => void> = [];
  private readonly nextId = guestNumbers();

  /** `pauseMs` between check-ins keeps a long run from filling the unit with thousands of guests. */
  constructor(private readonly gw: GatewayProcess, private readonly secrets: DeskSecrets, private readonly pauseMs = 0) {}

  start(): void {
    this.running = true;
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** The replies that issued a code (201). */
  accepted(): Outcome[] {
    return this.outcomes.filter((o) => o.status === 201);
  }

  /** Resolves just after the next POST left the client, so a test can crash before its reply. */
  nextPost(): Promise<void> {
    return new Promise((resolve) => this.postSent.push(resolve));
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (!(await this.reachable())) {
        await sleep(50);
        continue;
      }
      const desk = await FrontDesk.open(this.gw, this.secrets, this.outcomes).catch(() => undefined);
      if (!desk) continue;
      try {
        while (this.running) {
          const id = this.nextId();
          const unit = DESK_UNITS[this.outcomes.length % DESK_UNITS.length]!.code;
          const sending = desk.send(id, await desk.prepare(id, unit));
          for (const resolve of this.postSent.splice(0)) resolve();
          if ((await sending).status === 'lost') break;
          await sleep(this.pauseMs);
        }
      } catch {
        // The crash interrupted the read or the face check: nothing was sent.
      }
      await desk.close();
    }
  }

  private async reachable(): Promise<boolean> {
    try {
      await fetch(`${this.gw.httpUrl}/healthz`);
      return true;
    } catch {
      return false;
    }
  }
}
