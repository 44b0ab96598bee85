// What the page knows, loaded from the HTTP API, with one change signal per part. SSE
// events only say "something changed": the part is then fetched again, so the page
// shows exactly what the API says, and a missed event is healed by the next poll.
import { get } from './api.js';
import { debounce } from './dom.js';

export const store = {
  config: null,
  units: [],
  stays: [],
  reads: [],
  devices: [],
  alarms: [],
  health: null,
  outbox: null,
  /** The SSE stream is open. */
  live: false,
};

const subscribers = {};
const generation = {};

export function on(part, fn) {
  (subscribers[part] ??= []).push(fn);
}

export function changed(part) {
  for (const fn of subscribers[part] ?? []) fn();
}

const LOADERS = {
  async units() {
    const [units, stays] = await Promise.all([get('/api/units'), get('/api/console/stays')]);
    if (units.status === 200) store.units = units.body.units;
    if (stays.status === 200) store.stays = stays.body.stays;
  },
  async reads() {
    const res = await get(`/api/reads?desk=${encodeURIComponent(store.config.desk)}`);
    if (res.status === 200) store.reads = res.body.reads;
  },
  async devices() {
    const res = await get('/api/devices');
    if (res.status === 200) store.devices = res.body.devices;
  },
  async alarms() {
    const res = await get('/api/alarms');
    if (res.status === 200) store.alarms = res.body.alarms;
  },
  async uplink() {
    const [health, outbox] = await Promise.all([get('/healthz'), get('/api/outbox')]);
    store.health = health.status === 0 ? null : health.body;
    if (outbox.status === 200) store.outbox = outbox.body;
  },
};

/** Loads one part; an answer overtaken by a newer request is dropped. */
export async function load(part) {
  const mine = (generation[part] = (generation[part] ?? 0) + 1);
  const before = JSON.stringify(pick(part));
  await LOADERS[part]();
  if (mine !== generation[part]) return;
  if (JSON.stringify(pick(part)) !== before) changed(part);
}

export function loadAll() {
  return Promise.all(Object.keys(LOADERS).map(load));
}

/** Bursts of events (a card read, then its verify) cause one fetch per part. */
export const reload = Object.fromEntries(Object.keys(LOADERS).map((part) => [part, debounce(() => load(part), 100)]));

function pick(part) {
  if (part === 'units') return [store.units, store.stays];
  if (part === 'uplink') return [store.health, store.outbox];
  return store[part];
}
