// A crash anywhere in a check-in leaves either nothing, or a stay with its registration and
// its codes (CHECKIN.md "On acceptance": one SQLite transaction). The gateway runs as a
// child process (`menwei start`) and is SIGKILLed at random moments, also right after a
// POST was sent and before its reply; cards come from a network reader over MQTT
// (PROTOCOL.md §1.6) and faces from a DeskSim (§1.5). Then the SQLite file is checked.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { connectDevice } from '../helpers/gateway.ts';
import { PHOTO, cardFor, idNumber } from '../helpers/checkin-setup.ts';
import { DeskSim } from '../../firmware-sim/desk-sim.ts';
import { openDatabase } from '../../gateway/store/db.ts';
import { open } from '../../gateway/crypto.ts';
import { encodeReadResponse } from '../../protocol/sam/index.ts';
import { isoTime } from '../../protocol/time.ts';

const ROUNDS = 5;
const UNIT = 'HL-CR-0101';
const LOCK = 'lock-cr-0101';

type Secrets = { reader: string; desk: string; token: string };
type Outcome = { id: string; status: number | 'lost'; stayId?: string };

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mask = (id: string) => `${id.slice(0, 6)}********${id.slice(14)}`;

/** `device add`, `unit add --lock` and `staff add` through the CLI, on the gateway's own file. */
async function provision(gw: GatewayProcess): Promise<Secrets> {
  const add = async (kind: string, id: string) => ((await gw.cli(['device', 'add', '--kind', kind, '--id', id]))[0] as { secret: string }).secret;
  const unit = add('lock', LOCK).then(() => gw.cli(['unit', 'add', '--code', UNIT, '--address', '上海市黄浦区某路1号', '--lock', LOCK]));
  const staff = gw.cli(['staff', 'add', '--id', 'clerk-1', '--name', '王']).then(([s]) => (s as { token: string }).token);
  const [reader, desk, token] = await Promise.all([add('reader', 'reader-net'), add('desk', 'desk-1'), staff, unit]);
  return { reader, desk, token };
}

/** One front desk between two crashes: a network reader, a face terminal and the HTTP API. */
class FrontDesk {
  readonly outcomes: Outcome[] = [];
  private constructor(private readonly gw: GatewayProcess, private readonly token: string, private readonly reader: MqttClient, private readonly desk: DeskSim) {}

  static async open(gw: GatewayProcess, s: Secrets): Promise<FrontDesk> {
    const desk = new DeskSim({ brokerUrl: gw.brokerUrl, id: 'desk-1', secret: s.desk, score: 0.94 });
    await desk.start();
    const reader = await connectDevice(gw.brokerUrl, 'reader-net', s.reader);
    reader.on('error', () => undefined);
    return new FrontDesk(gw, s.token, reader, desk);
  }

  async close(): Promise<void> {
    this.reader.end(true);
    await Promise.race([this.desk.stop(), sleep(500)]);
  }

  /** Card on the reader, wait for the verified read, and return the (unsent) check-in POST. */
  async prepare(id: string): Promise<() => Promise<Response>> {
    const frame = encodeReadResponse(cardFor(id, { name: `客人${id.slice(-4)}` }), PHOTO).toString('base64');
    await this.publishRead(JSON.stringify({ v: 1, ts: isoTime(Date.now()), frame }));
    let readId: string | undefined;
    for (let tries = 0; !readId; tries++) {
      if (tries > 200) throw new Error(`no verified read for ${mask(id)}`);
      const res = await this.api('GET', '/api/reads?desk=desk-1');
      const { reads } = (await res.json()) as { reads: Array<{ readId: string; card: { idNumber?: string }; verification: { state: string } }> };
      readId = reads.find((r) => r.card.idNumber === mask(id) && r.verification.state === 'received')?.readId;
      if (!readId) await sleep(10);
    }
    const body = { readId, unit: UNIT, expectedCheckout: isoTime(Date.now() + 86_400_000) };
    return () => this.api('POST', '/api/checkins', body);
  }

  /** Sends the POST; a reply is recorded, a connection lost to the crash is `lost`. */
  send(id: string, post: () => Promise<Response>): Promise<void> {
    return post()
      .then(async (res) => {
        const body = (await res.json()) as { stayId?: string };
        this.outcomes.push({ id, status: res.status, ...(body.stayId ? { stayId: body.stayId } : {}) });
      })
      .catch(() => void this.outcomes.push({ id, status: 'lost' }));
  }

  /** QoS 1; a crash before the PUBACK would leave the publish pending for ever, so the close ends it. */
  private publishRead(payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.reader.connected) return reject(new Error('reader connection closed'));
      const onClose = () => reject(new Error('reader connection closed'));
      this.reader.once('close', onClose);
      this.reader.publishAsync('menwei/reader/reader-net/read', payload, { qos: 1 })
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

describe('check-in across crashes (CHECKIN.md "On acceptance")', () => {
  it('after SIGKILLs at random moments, every code has its stay, every stay one registration, every 201 its stay', async () => {
    const gw = await gatewayProcess({ readers: [{ id: 'reader-net', transport: 'network', desk: 'desk-1' }] });
    cleanups.push(() => gw.destroy());
    const secrets = await provision(gw);
    const outcomes: Outcome[] = [];
    let n = 0;
    const nextId = () => idNumber('1988-08-08', ++n, '310101');

    for (let round = 0; round < ROUNDS; round++) {
      await gw.start();
      const desk = await FrontDesk.open(gw, secrets);
      if (round % 2 === 0) {
        // Kill right after a POST left the client, before its reply.
        for (let i = 0, before = 1 + Math.floor(Math.random() * 3); i < before; i++) {
          const id = nextId();
          await desk.send(id, await desk.prepare(id));
        }
        const id = nextId();
        const post = await desk.prepare(id);
        const sent = desk.send(id, post);
        await sleep(Math.random() * 4);
        await gw.kill();
        await sent;
      } else {
        // Kill at a random moment of a running loop of check-ins.
        let killed = false;
        const killer = sleep(150 + Math.random() * 600).then(async () => { killed = true; await gw.kill(); });
        while (!killed) {
          const id = nextId();
          try {
            await desk.send(id, await desk.prepare(id));
          } catch {
            break; // the crash interrupted the read or the verify: nothing was sent
          }
        }
        await killer;
      }
      await desk.close();
      outcomes.push(...desk.outcomes);
    }
    await gw.start();
    const last = await FrontDesk.open(gw, secrets);
    const id = nextId();
    await last.send(id, await last.prepare(id));
    await last.close();
    outcomes.push(...last.outcomes);
    expect(last.outcomes.map((o) => o.status)).toEqual([201]);
    expect(await gw.stop()).toBe(0);

    const db = openDatabase(join(gw.dataDir, 'menwei.db'));
    cleanups.push(async () => db.close());
    const dataKey = Buffer.from(gw.env.MENWEI_DATA_KEY!, 'hex');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

    const stays = db.prepare('SELECT stay_id, id_hash FROM stays').all() as Array<{ stay_id: string; id_hash: string }>;
    const stayIds = new Set(stays.map((s) => s.stay_id));
    const orphans = db.prepare('SELECT code_id FROM codes WHERE stay_id IS NOT NULL AND stay_id NOT IN (SELECT stay_id FROM stays)').all();
    expect(orphans).toEqual([]);
    const codesPerStay = db.prepare('SELECT stay_id, count(*) AS n FROM codes WHERE stay_id IS NOT NULL GROUP BY stay_id').all() as Array<{ stay_id: string; n: number }>;
    expect(codesPerStay.map((r) => r.n)).toEqual(stays.map(() => 1));
    expect(new Set(codesPerStay.map((r) => r.stay_id))).toEqual(stayIds);
    // Every issued code bumped the lock's version in its own commit; nothing else changed the list.
    const codeCount = (db.prepare('SELECT count(*) AS n FROM codes WHERE lock_id = ?').get(LOCK) as { n: number }).n;
    expect(db.prepare('SELECT version FROM lock_versions WHERE lock_id = ?').get(LOCK)).toEqual({ version: codeCount });
    expect(new Set(stays.map((s) => s.id_hash)).size).toBe(stays.length);

    const registrations = (db.prepare("SELECT topic, payload FROM outbox WHERE class = 'registration'").all() as Array<{ topic: string; payload: Buffer }>)
      .filter((r) => r.topic.endsWith('/registration/checkin'))
      .map((r) => JSON.parse(open(dataKey, r.payload).toString('utf8')) as { data: { stayId: string } });
    const registered = registrations.map((r) => r.data.stayId).sort();
    expect(registered).toEqual([...stayIds].sort());
    const issued = (db.prepare("SELECT payload FROM outbox WHERE topic LIKE '%/audit/code_issued'").all() as Array<{ payload: Buffer }>)
      .map((r) => (JSON.parse(r.payload.toString('utf8')) as { data: { stayId: string } }).data.stayId).sort();
    expect(issued).toEqual([...stayIds].sort());

    const accepted = outcomes.filter((o) => o.status === 201);
    expect(accepted.filter((o) => !stayIds.has(o.stayId!))).toEqual([]);
    expect(outcomes.filter((o) => o.status !== 201 && o.status !== 'lost')).toEqual([]);
    expect(stays.length).toBeGreaterThanOrEqual(accepted.length);
    expect(stays.length).toBeLessThanOrEqual(accepted.length + outcomes.filter((o) => o.status === 'lost').length);
    console.info(`check-in crash test: ${ROUNDS} SIGKILLs, ${accepted.length} accepted, ${outcomes.length - accepted.length} replies lost, ${stays.length} stays on disk`);
  }, 90_000);
});
