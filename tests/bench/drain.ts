// Benchmark: backlog drain (issue 8 §3). After an outage, how fast does Menwei empty a
// large outbox into the upstream Mosquitto, next to a plain mqtt.js publisher sending
// the same number of events of the same size with the same in-flight window?
//
// A 1,000,000-event backlog built through devices would take minutes per run, so the
// outbox is filled offline with the gateway's own store and outbox code, with events
// shaped as device ingest writes them (a detector's `device/test`, ingest/smoke.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ulid } from 'ulid';
import { openDatabase } from '../../gateway/store/db.ts';
import { SqliteOutbox } from '../../gateway/outbox/sqlite-outbox.ts';
import { deviceEvent } from '../../gateway/ingest/tx.ts';
import { systemClock } from '../../gateway/clock.ts';
import { gatewayProcess } from '../helpers/gateway-process.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { goalText, type Benchmark } from './report.ts';
import { median, round } from './stats.ts';

const GATEWAY_ID = 'gw-test';
const DEVICES = 20;
/** The forwarder's default in-flight window (gateway/forwarder/forwarder.ts). */
const FORWARDER_WINDOW = 64;
const APPEND_CHUNK = 20_000;

export type DrainResult = {
  /** Events/s from the first backlog event upstream to the last. */
  eventsPerSec: number;
  /** Seconds from process start (Menwei: `menwei start`) to the last event upstream. */
  totalSeconds: number;
};

/** A clean-session QoS 1 subscriber that only counts, so a million events cost no memory. */
async function countingSubscriber(url: string, filter: string) {
  const client = await mqtt.connectAsync(url, { clientId: `drain-counter-${ulid()}`, clean: true, protocolVersion: 4 });
  await client.subscribeAsync(filter, { qos: 1 });
  const state = { count: 0, firstAt: 0, lastAt: 0 };
  client.on('message', () => {
    const now = performance.now();
    if (state.count++ === 0) state.firstAt = now;
    state.lastAt = now;
  });
  const waitFor = async (n: number, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (state.count < n) {
      if (Date.now() > until) throw new Error(`drain: ${state.count} of ${n} upstream after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { state, waitFor, close: () => client.endAsync() };
}

/**
 * Appends `events` device events to the outbox in the data dir, as an earlier boot that
 * lost its uplink would have left them. Returns the size of one envelope in bytes.
 */
export function fillOutbox(dataDir: string, events: number): number {
  const db = openDatabase(join(dataDir, 'menwei.db'));
  const outbox = new SqliteOutbox(db, { gatewayId: GATEWAY_ID, bootId: ulid(), clock: systemClock, maxBytes: 4 * 1024 ** 3, deliveredRetentionMs: 86_400_000 });
  const appendChunk = db.transaction((from: number, to: number) => {
    const batch = [];
    for (let i = from; i < to; i++) {
      const device = { id: `smoke-${i % DEVICES}`, kind: 'smoke', unit: `U-${i % DEVICES}` };
      batch.push(deviceEvent(device, 'device', 'test', { deviceSeq: Math.floor(i / DEVICES) + 1 }, new Date().toISOString()));
    }
    return outbox.append(batch);
  });
  let bytes = 0;
  for (let from = 0; from < events; from += APPEND_CHUNK) {
    const written = appendChunk(from, Math.min(events, from + APPEND_CHUNK));
    bytes ||= written[0]!.payload.length;
  }
  outbox.close();
  db.close();
  return bytes;
}

export async function measureMenweiDrain(events: number): Promise<DrainResult & { envelopeBytes: number }> {
  const upstream = await startMosquitto();
  const gw = await gatewayProcess({ upstream: { url: upstream.url } });
  try {
    const envelopeBytes = fillOutbox(gw.dataDir, events);
    const counter = await countingSubscriber(upstream.url, `menwei/up/${GATEWAY_ID}/device/#`);
    const started = performance.now();
    await gw.start();
    await counter.waitFor(events, 1_800_000);
    await counter.close();
    const { firstAt, lastAt } = counter.state;
    return { eventsPerSec: events / ((lastAt - firstAt) / 1000), totalSeconds: (lastAt - started) / 1000, envelopeBytes };
  } finally {
    await gw.destroy();
    await upstream.destroy();
  }
}

export async function measurePlainDrain(events: number, bytes: number): Promise<DrainResult> {
  const upstream = await startMosquitto();
  const counter = await countingSubscriber(upstream.url, 'plain/#');
  const script = new URL('./plain-publisher.ts', import.meta.url).pathname;
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', script, upstream.url, 'plain/device/test', String(events), String(bytes), String(FORWARDER_WINDOW)], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await counter.waitFor(events, 1_800_000);
    const { firstAt, lastAt } = counter.state;
    return { eventsPerSec: events / ((lastAt - firstAt) / 1000), totalSeconds: (lastAt - started) / 1000 };
  } finally {
    child.kill('SIGKILL');
    await counter.close();
    await upstream.destroy();
  }
}

/** Issue 8 §3: Menwei draining an outage backlog against a plain publisher. */
export const drainBench: Benchmark = {
  name: 'drain',
  async run({ quick, runs }) {
    const events = quick ? 10_000 : 1_000_000;
    if (!quick) await measureMenweiDrain(2_000); // warm-up
    const menwei: DrainResult[] = [];
    const plain: DrainResult[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const a = await measureMenweiDrain(events);
      bytes = a.envelopeBytes;
      menwei.push(a);
      plain.push(await measurePlainDrain(events, bytes));
    }
    const a = median(menwei.map((r) => r.eventsPerSec));
    const p = median(plain.map((r) => r.eventsPerSec));
    return [{
      benchmark: `backlog drain, ${events} events of ${bytes} B queued during an outage, QoS 1, window ${FORWARDER_WINDOW} (events/s from the first event upstream to the last; seconds from process start to the last; median of ${runs})`,
      menwei: `${Math.round(a)} (${round(median(menwei.map((r) => r.totalSeconds)))} s)`,
      baselines: `plain mqtt.js publisher ${Math.round(p)} (${round(median(plain.map((r) => r.totalSeconds)))} s)`,
      ratios: `${round(a / p, 2)}`,
      goal: goalText('≥ 0.6× plain publisher', a / p >= 0.6),
    }];
  },
};
