// A check-in situation built quickly against a real in-process gateway (CHECKIN.md): the
// default features on port 0 with a FakeClock, a unit with a lock, a staff member with an
// API token and a badge, card reads through the front desk, face results (recorded
// directly or sent by a DeskSim over MQTT), platform commands through the dispatcher, and
// POSTs over a real HTTP socket with the Bearer token.
import { createHash, randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterEach } from 'vitest';
import { startTestGateway, type TestGateway } from './gateway.ts';
import { FakeClock } from '../../gateway/clock.ts';
import { defaultFeatures, type Features } from '../../gateway/features.ts';
import type { Gateway } from '../../gateway/main.ts';
import type { UnsupportedCard } from '../../gateway/checkin/decision.ts';
import { DeskSim } from '../../firmware-sim/desk-sim.ts';
import { checkCharacter, checkIdNumber } from '../../protocol/id-number.ts';
import { SamParser, decodeCard, encodeReadResponse, type Card, type CardFields } from '../../protocol/sam/index.ts';
import { commandTopic } from '../../protocol/topics.ts';
import { isoTime } from '../../protocol/time.ts';
import { recordSecrets } from './log-scan.ts';

export const READER = 'reader-desk1';
export const DESK = 'desk-1';
export const UNIT = 'HL-MY-0301';
export const LOCK = 'lock-0301';
export const STAFF = 'clerk-1';
export const BADGE = '80012345';
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A 1024-byte WLT photo block: opaque bytes, as in tests/fixtures/sam. */
export const PHOTO = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 37) % 256));

/** A well-formed resident number (PROTOCOL.md §6): region, birth, sequence (odd = male), check. */
export function idNumber(birth: string, seq: number, region = '110105'): string {
  const body = `${region}${birth.replaceAll('-', '')}${String(seq).padStart(3, '0')}`;
  return body + checkCharacter(body);
}

/**
 * The card of the person with this number: birth and gender taken from a well-formed
 * number, so it passes rules 4–6 unless `patch` says otherwise.
 */
export function cardFor(id: string, patch: Partial<CardFields> = {}): CardFields {
  const parsed = checkIdNumber(id, '2026-11-30');
  return {
    name: '张三', gender: parsed.ok ? parsed.gender : 'male', nation: '01', birth: parsed.ok ? parsed.birth : '1990-01-01',
    address: '北京市朝阳区朝阳路1号', idNumber: id, authority: '北京市公安局朝阳分局',
    validFrom: '2015-01-01', validTo: '2035-01-01', docType: 'resident', ...patch,
  };
}

/** The fixture guest of tests/fixtures/sam/read-resident.hex. */
export const ZHANG_SAN = cardFor('11010519491231002X');
export const WANG_WU = cardFor('360426199101010071', { name: '王五' });
export const LI_SI = cardFor('320402199003071235', { name: '李四' });

/** Fields → the card the gateway sees, through the real SAM codec (PROTOCOL.md §3). */
export function decodeFields(fields: CardFields, photo: Buffer = PHOTO): Card {
  const [result] = new SamParser().push(encodeReadResponse(fields, photo));
  if (!result?.ok || result.frame.dir !== 'response') throw new Error('test card did not encode to a read response');
  const decoded = decodeCard(result.frame.data);
  if (!decoded.ok) throw new Error(`test card did not decode: ${decoded.error.code}`);
  return decoded.card;
}

export type ApiReply = { status: number; body: any };
export type Envelope = { eventId: string; class: string; type: string; unit?: string; seq: number; data: any };

export type Scene = {
  tg: TestGateway;
  gw: Gateway;
  f: Features;
  clock: FakeClock;
  token: string;
  post(path: string, body?: unknown, token?: string): Promise<ApiReply>;
  get(path: string): Promise<ApiReply>;
  /** A licensed unit with `locks` locks (ids `<lock>`, `<lock>-2`, …). */
  addUnit(code: string, opts?: { lock?: string; locks?: number; licensed?: boolean; licenceUntil?: string }): string[];
  /** A staff member with a token and a badge; returns the token. */
  addStaff(id: string, badge?: string): string;
  /** A card put on the reader: returns its readId. */
  read(card: CardFields | UnsupportedCard, readerId?: string): string;
  /** A face result for the read, received now, from `desk` (default: desk-1). */
  verify(readId: string, v?: { score?: number; liveness?: boolean; desk?: string }): 'accepted' | 'unknown_read' | 'wrong_desk';
  /**
   * The card on the network reader (PROTOCOL.md §1.6): a SAM read response published by the
   * provisioned reader device over MQTT. Resolves with the read's id once it is registered.
   */
  networkRead(card: CardFields): Promise<string>;
  /** read + a passing face check at desk-1. */
  verifiedRead(card: CardFields): string;
  swipe(staffId?: string, desk?: string): void;
  walkIn(readId: string, extra?: Record<string, unknown>): Promise<ApiReply>;
  /** A platform command applied as the forwarder would; resolves with its reply data. */
  command(name: string, fields: Record<string, unknown>): Promise<{ commandId: string; status: string; error?: { code: string } }>;
  /** Every event in the outbox (undelivered: there is no upstream), in seq order. */
  events(classType?: string): Envelope[];
  liveCodeIds(unit?: string): string[];
  /** A DeskSim for a provisioned desk, started over MQTT; stopped by `stop()`. */
  deskSim(id: string, opts?: { score?: number; liveness?: boolean }): Promise<DeskSim>;
  /** Stops the gateway; with `keepData` its data directory stays for the caller to read and remove. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
};

/**
 * One scene per test, stopped after it: call at the top of a test file, then
 * `const s = await fresh(...)` inside each test.
 */
export function sceneEachTest(): (overrides?: Record<string, unknown>, unitLocks?: number) => Promise<Scene> {
  let scene: Scene | undefined;
  afterEach(async () => {
    await scene?.stop();
    scene = undefined;
  });
  return async (overrides = {}, unitLocks = 1) => (scene = await startScene(overrides, { unitLocks }));
}

export async function startScene(overrides: Record<string, unknown> = {}, opts: { unitLocks?: number } = {}): Promise<Scene> {
  const clock = new FakeClock();
  const f = defaultFeatures();
  const tg = await startTestGateway({ readers: [{ id: READER, transport: 'network', desk: DESK }], ...overrides }, { clock, features: f.all });
  const gw = tg.gateway;
  const sims: DeskSim[] = [];
  let readerClient: MqttClient | undefined;
  const url = `http://127.0.0.1:${tg.ports.http}`;
  const request = async (method: string, path: string, body: unknown, token: string): Promise<ApiReply> => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: recordSecrets(text ? JSON.parse(text) : undefined) };
  };
  const addStaff = (id: string, badge?: string) =>
    recordSecrets(f.api.staff.add({ id, name: '王', days: 30, ...(badge ? { badge } : {}) }, clock.now())!).token;
  const scene: Scene = {
    tg, gw, f, clock,
    token: '',
    post: (path, body = {}, token = scene.token) => request('POST', path, body, token),
    get: (path) => request('GET', path, undefined, scene.token),
    addUnit(code, o = {}) {
      gw.units.add({ code, address: '北京市海淀区某路1号', licensed: o.licensed ?? true, ...(o.licenceUntil ? { licenceUntil: o.licenceUntil } : {}) }, clock.now());
      const base = o.lock ?? `lock-${code.toLowerCase()}`;
      return Array.from({ length: o.locks ?? 1 }, (_, i) => {
        const id = i === 0 ? base : `${base}-${i + 1}`;
        recordSecrets(gw.registry.add({ id, kind: 'lock', unit: code }, gw.dataKey, clock.now()));
        return id;
      });
    },
    addStaff,
    read(card, readerId = READER) {
      const photo = 'name' in card ? PHOTO : null;
      const readId = f.checkin.desk.onCard(readerId, 'name' in card ? decodeFields(card) : card, photo);
      if (!readId) throw new Error(`reader ${readerId} is not configured`);
      return readId;
    },
    verify(readId, v = {}) {
      return f.checkin.reads.recordVerify({
        readId, desk: v.desk ?? DESK, score: v.score ?? 0.93, liveness: v.liveness ?? true, algo: 'vendor/3.1',
        receivedMono: clock.monotonic(), receivedAt: clock.now(),
      });
    },
    async networkRead(card) {
      if (!readerClient) readerClient = await tg.connectDevice(READER, tg.provision('reader', READER).secret);
      const before = f.checkin.reads.recent(DESK, 1)[0]?.readId;
      const frame = encodeReadResponse(card, PHOTO).toString('base64');
      // QoS 1: the PUBACK comes after the commit, whose after-effect registers the read.
      await readerClient.publishAsync(`menwei/reader/${READER}/read`, JSON.stringify({ v: 1, ts: isoTime(clock.now()), frame }), { qos: 1 });
      const newest = f.checkin.reads.recent(DESK, 1)[0]?.readId;
      if (newest === undefined || newest === before) throw new Error('the network read was not registered');
      return newest;
    },
    verifiedRead(card) {
      const readId = scene.read(card);
      scene.verify(readId);
      return readId;
    },
    swipe: (staffId = STAFF, desk = DESK) => f.checkin.badges.record(staffId, desk, clock.monotonic()),
    walkIn: (readId, extra = {}) => scene.post('/api/checkins', { readId, unit: UNIT, expectedCheckout: isoTime(clock.now() + 2 * DAY), ...extra }),
    async command(name, fields) {
      const commandId = `cmd-${randomUUID()}`;
      const payload = Buffer.from(JSON.stringify({ v: 1, commandId, expiresAt: isoTime(clock.now() + HOUR), ...fields }));
      await gw.transact((tx) => gw.commands.apply(tx, commandTopic(gw.config.gatewayId, name), payload));
      const reply = scene.events(`reply/${name}`).find((e) => e.data.commandId === commandId);
      if (!reply) throw new Error(`no reply to ${name}`);
      return reply.data;
    },
    events(classType) {
      gw.outbox.rewind();
      const all = gw.outbox.take(1_000_000).map((e) => JSON.parse(e.payload.toString('utf8')) as Envelope).sort((a, b) => a.seq - b.seq);
      return classType === undefined ? all : all.filter((e) => `${e.class}/${e.type}` === classType);
    },
    liveCodeIds: (unit = UNIT) => f.locks.liveCodes(unit).map((c) => c.codeId).sort(),
    async deskSim(id, o = {}) {
      const device = gw.registry.find(id) ? undefined : tg.provision('desk', id);
      if (!device) throw new Error(`desk ${id} is already provisioned; reuse its DeskSim`);
      const sim = new DeskSim({ brokerUrl: tg.brokerUrl, id, secret: device.secret, ...o });
      await sim.start();
      sims.push(sim);
      return sim;
    },
    async stop({ keepData = false } = {}) {
      await Promise.all(sims.map((s) => s.stop()));
      await readerClient?.endAsync();
      await (keepData ? gw.stop() : tg.stop());
    },
  };
  scene.addUnit(UNIT, { lock: LOCK, locks: opts.unitLocks ?? 1 });
  scene.token = addStaff(STAFF, BADGE);
  return scene;
}

/** sha256 hex, for comparing photo hashes in registrations. */
export const sha256Hex = (data: Buffer) => createHash('sha256').update(data).digest('hex');
