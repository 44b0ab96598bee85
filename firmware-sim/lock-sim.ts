// A simulated smart lock, device side, over a real mqtt.js session (PROTOCOL.md §1,
// §1.2, §1.3). It pulls its code list on connect, on a hint and every 5 min, checks
// entered codes against the HMACs with its code key (provisioned at installation, never
// sent over MQTT), honours `uses` locally until the next pull, and locks its keypad
// after 5 wrong codes in 5 minutes. Its event `seq` survives restarts through a SeqStore.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { LockCodesPayload, type LockCode } from '../protocol/device-messages.ts';
import { deviceTopic } from '../protocol/topics.ts';
import { isoTime } from '../protocol/time.ts';

const PULL_EVERY_MS = 5 * 60_000;
const LOCKOUT_AFTER = 5;
const LOCKOUT_WINDOW_MS = 5 * 60_000;
const LOCKOUT_MS = 5 * 60_000;
const UINT32 = 2 ** 32;

/** Where the lock keeps its event counter across restarts. */
export interface SeqStore {
  load(): number;
  save(seq: number): void;
}

export function memorySeqStore(start = 0): SeqStore {
  let seq = start;
  return { load: () => seq, save: (next) => { seq = next; } };
}

/** `{"seq":N}` in a JSON file; a missing file starts at 0. */
export function fileSeqStore(path: string): SeqStore {
  return {
    load: () => {
      try {
        return (JSON.parse(readFileSync(path, 'utf8')) as { seq: number }).seq;
      } catch {
        return 0;
      }
    },
    save: (seq) => writeFileSync(path, JSON.stringify({ seq })),
  };
}

export type LockSimOptions = {
  brokerUrl: string;
  id: string;
  secret: string;
  /** 64 hex: the code key printed by `menwei device add --kind lock`. */
  codeKey: string;
  clock?: { now(): number };
  seqStore?: SeqStore;
  heartbeatS?: number;
  fw?: string;
};

export type Entry = { ok: true; codeId: string } | { ok: false; reason: 'wrong_code' | 'locked_out' };
export type UnlockMethod = 'card' | 'key' | 'app' | 'inside';
type Reply = LockCodesPayload;

export class LockSim {
  /** The applied list and its version (0 before the first list). */
  version = 0;
  codes: LockCode[] = [];
  hints = 0;
  private client: MqttClient | null = null;
  private seq: number;
  private timers: NodeJS.Timeout[] = [];
  private readonly waiting = new Map<string, (reply: Reply) => void>();
  private consecutiveWrong = 0;
  private wrongAt: number[] = [];
  private lockedUntil = 0;
  private batteryPct = 100;
  private readonly clock: { now(): number };
  private readonly seqStore: SeqStore;

  constructor(readonly options: LockSimOptions) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.seqStore = options.seqStore ?? memorySeqStore();
    this.seq = this.seqStore.load();
  }

  async start(): Promise<void> {
    const { id, secret } = this.options;
    const status = deviceTopic('lock', id, 'status');
    this.client = await mqtt.connectAsync(this.options.brokerUrl, {
      clientId: id, username: id, password: secret, protocolVersion: 4, reconnectPeriod: 0,
      will: { topic: status, payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true },
    });
    this.client.on('message', (_topic, payload) => this.onCodes(payload));
    // §1: the broker keeps no sessions, so the lock subscribes on every connect.
    await this.client.subscribeAsync(deviceTopic('lock', id, 'codes'), { qos: 1 });
    await this.heartbeat();
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const timer = setInterval(() => void fn().catch(() => undefined), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every((this.options.heartbeatS ?? 60) * 1000, () => this.heartbeat());
    every(PULL_EVERY_MS, () => this.pull());
    await this.pull();
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.client?.endAsync();
    this.client = null;
  }

  /** §1.3: `have` is the version of the last applied list; resolves with the reply. */
  pull(): Promise<Reply> {
    const reqId = `r-${randomUUID().slice(0, 8)}`;
    const replied = new Promise<Reply>((resolve) => this.waiting.set(reqId, resolve));
    return this.send('pull', { v: 1, reqId, have: this.version }).then(() => replied);
  }

  /** A code typed on the keypad. */
  async enter(code: string): Promise<Entry> {
    const now = this.clock.now();
    if (now < this.lockedUntil) return { ok: false, reason: 'locked_out' };
    const match = this.match(code, now);
    if (match) {
      if (match.uses !== null) match.uses--;
      this.consecutiveWrong = 0;
      await this.event({ type: 'unlock', method: 'code', codeId: match.codeId });
      return { ok: true, codeId: match.codeId };
    }
    await this.wrong(now);
    return { ok: false, reason: now < this.lockedUntil ? 'locked_out' : 'wrong_code' };
  }

  unlock(method: UnlockMethod): Promise<void> {
    return this.event({ type: 'unlock', method });
  }

  door(open: boolean): Promise<void> {
    return this.event({ type: 'door', open });
  }

  battery(pct: number): Promise<void> {
    this.batteryPct = pct;
    return this.event({ type: 'battery', pct });
  }

  tamper(): Promise<void> {
    return this.event({ type: 'tamper' });
  }

  jammed(): Promise<void> {
    return this.event({ type: 'jammed' });
  }

  /** Any §1.2 event with the next seq and the lock's time: also what a faulty lock might say. */
  event(fields: Record<string, unknown>): Promise<void> {
    this.seq = (this.seq + 1) % UINT32;
    this.seqStore.save(this.seq);
    return this.send('event', { v: 1, seq: this.seq, ts: isoTime(this.clock.now()), ...fields });
  }

  /** An acceptable code: its HMAC is listed, it is inside its window and has uses left. */
  private match(code: string, now: number): LockCode | undefined {
    // §1.3: HMAC-SHA256, key = the 32 bytes of the code key, message = the 8 ASCII digits.
    const digest = createHmac('sha256', Buffer.from(this.options.codeKey, 'hex')).update(code, 'ascii').digest();
    return this.codes.find((c) => timingSafeEqual(Buffer.from(c.hmac, 'hex'), digest)
      && Date.parse(c.validFrom) <= now && now < Date.parse(c.validTo) && (c.uses === null || c.uses > 0));
  }

  /** §1.2 wrong_code with the consecutive count; 5 in 5 minutes lock the keypad. */
  private async wrong(now: number): Promise<void> {
    this.consecutiveWrong++;
    this.wrongAt = [...this.wrongAt.filter((t) => now - t < LOCKOUT_WINDOW_MS), now];
    const lockout = this.wrongAt.length >= LOCKOUT_AFTER;
    if (lockout) {
      this.lockedUntil = now + LOCKOUT_MS;
      this.wrongAt = [];
    }
    await this.event({ type: 'wrong_code', count: this.consecutiveWrong });
    if (lockout) await this.event({ type: 'lockout', until: isoTime(this.lockedUntil) });
  }

  private onCodes(payload: Buffer): void {
    let message: Reply;
    try {
      message = LockCodesPayload.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      return; // a lock ignores what it cannot read; the 5-minute pull recovers
    }
    if (message.reqId === undefined) {
      this.hints++;
      if (message.version !== this.version) void this.pull().catch(() => undefined);
      return;
    }
    if (message.codes) {
      this.codes = message.codes.map((c) => ({ ...c }));
      this.version = message.version;
    }
    this.waiting.get(message.reqId)?.(message);
    this.waiting.delete(message.reqId);
  }

  private heartbeat(): Promise<void> {
    const status = { v: 1, online: true, ts: isoTime(this.clock.now()), fw: this.options.fw ?? 'sim-1.0.0', batteryPct: this.batteryPct };
    return this.send('status', status, true);
  }

  private async send(channel: 'event' | 'pull' | 'status', payload: object, retain = false): Promise<void> {
    if (!this.client) throw new Error(`lock ${this.options.id} is not started`);
    await this.client.publishAsync(deviceTopic('lock', this.options.id, channel), JSON.stringify(payload), { qos: 1, retain });
  }
}
