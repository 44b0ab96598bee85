// The whole check-in path of issue 4, over real parts: a simulated SAM reader on a socat
// pty answers the gateway's polling, a simulated face terminal and lock on MQTT, the HTTP
// API over a socket, and a Mosquitto upstream read by a separate subscriber.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { openPtyPair, type PtyPair } from '../../firmware-sim/pty.ts';
import { SamReaderSim } from '../../firmware-sim/sam-reader-sim.ts';
import { DeskSim } from '../../firmware-sim/desk-sim.ts';
import { LockSim } from '../../firmware-sim/lock-sim.ts';
import { SerialTransport } from '../../gateway/drivers/transport.ts';
import { StaffStore, badgeKeyFrom } from '../../gateway/staff/staff-store.ts';
import type { CardFields } from '../../protocol/sam/index.ts';

const GUEST: CardFields = {
  name: '张三', gender: 'female', nation: '01', birth: '1949-12-31', address: '北京市朝阳区朝阳路1号',
  idNumber: '11010519491231002X', authority: '北京市公安局朝阳分局', validFrom: '2015-01-01', validTo: '2035-01-01', docType: 'resident',
};

let pty: PtyPair;
let reader: SamReaderSim;
let upstream: Mosquitto;
let platform: Subscriber;
let gw: TestGateway;
let desk: DeskSim;
let lock: LockSim;
let token: string;
let codeKey: string;

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const api = (path: string, body?: unknown) => fetch(`http://127.0.0.1:${gw.ports.http}${path}`, {
  method: body === undefined ? 'GET' : 'POST',
  headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

beforeAll(async () => {
  pty = await openPtyPair();
  reader = new SamReaderSim({ transport: new SerialTransport({ path: pty.b }) });
  await reader.start();
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#');
  gw = await startTestGateway({
    upstream: { url: upstream.url },
    readers: [{ id: 'reader-desk1', transport: 'serial', path: pty.a, desk: 'desk-1' }],
  });
  const deskDevice = gw.provision('desk', 'desk-1');
  const lockDevice = gw.provision('lock', 'lock-0301', 'HL-MY-0301');
  gw.gateway.units.add({ code: 'HL-MY-0301', address: '海淀区某路1号', licensed: true }, Date.now());
  token = new StaffStore(gw.gateway.db, badgeKeyFrom(gw.gateway.dataKey)).add({ id: 'clerk-1', name: '王', days: 1 }, Date.now())!.token;
  desk = new DeskSim({ brokerUrl: gw.brokerUrl, id: 'desk-1', secret: deskDevice.secret, score: 0.93 });
  await desk.start();
  codeKey = lockDevice.codeKey!;
  lock = new LockSim({ brokerUrl: gw.brokerUrl, id: 'lock-0301', secret: lockDevice.secret, codeKey });
  await lock.start();
}, 30_000);

afterAll(async () => {
  await lock?.stop();
  await desk?.stop();
  await gw?.stop();
  await platform?.close();
  await upstream?.destroy();
  await reader?.stop();
  await pty?.close();
});

describe('check-in from card to door (issue 4)', () => {
  it('reads the card on the serial line, verifies the face, issues a code the lock accepts, and revokes it at check-out', async () => {
    reader.insertCard(GUEST);
    const read = await until('a verified read at desk-1', async () => {
      const { reads } = await (await api('/api/reads?desk=desk-1')).json() as { reads: Array<{ readId: string; card: { idNumber: string }; verification: { state: string } }> };
      return reads.find((r) => r.verification.state === 'received');
    });
    expect(read.card.idNumber).toBe('110105********002X');
    expect(desk.cards.map((c) => c.readId)).toContain(read.readId);

    const expectedCheckout = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const response = await api('/api/checkins', { readId: read.readId, unit: 'HL-MY-0301', expectedCheckout });
    expect(response.status).toBe(201);
    const { stayId, codes } = await response.json() as { stayId: string; codes: Array<{ lockId: string; codeId: string; code: string }> };
    expect(codes).toHaveLength(1);
    const [code] = codes;
    expect(code!.code).toMatch(/^\d{8}$/);

    await lock.pull();
    const hmac = createHmac('sha256', Buffer.from(codeKey, 'hex')).update(code!.code).digest('hex');
    expect(lock.codes.map((c) => c.hmac)).toContain(hmac);
    expect(await lock.enter(code!.code)).toEqual({ ok: true, codeId: code!.codeId });

    await platform.waitFor((m) => m.some((x) => x.topic.endsWith('/occupancy/entry')), 10_000);
    const topics = platform.messages.map((m) => m.topic);
    const registered = topics.indexOf('menwei/up/gw-test/registration/checkin');
    expect(registered).toBeGreaterThanOrEqual(0);
    expect(registered).toBeLessThan(topics.indexOf('menwei/up/gw-test/occupancy/entry'));
    const registration = platform.messages[registered]!.json as { data: { stayId: string; guest: { idNumber: string; name: string } } };
    expect(registration.data).toMatchObject({ stayId, guest: { idNumber: GUEST.idNumber, name: GUEST.name } });

    const checkout = await api(`/api/stays/${stayId}/checkout`, {});
    expect(checkout.status).toBe(200);
    expect(await checkout.json()).toEqual({ stayId, revokedCodes: 1 });
    await lock.pull();
    expect(lock.codes.map((c) => c.hmac)).not.toContain(hmac);
    expect(await lock.enter(code!.code)).toMatchObject({ ok: false });
  }, 40_000);
});
