// The HTTP API's auth and read routes (INTERFACES.md HTTP API), over a real socket
// against a real in-process gateway with a temp SQLite file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { FakeClock } from '../../gateway/clock.ts';
import type { Feature } from '../../gateway/feature.ts';
import { openDatabase } from '../../gateway/store/db.ts';
import { ApiFeature, type ApiProviders } from '../../gateway/http/api-feature.ts';
import { API_ERRORS } from '../../gateway/http/errors.ts';
import { StaffStore, badgeKeyFrom, type StaffCredentials } from '../../gateway/staff/staff-store.ts';

const DAY_MS = 86_400_000;
let t: TestGateway;
let api: ApiFeature;
let clock: FakeClock;
let alice: StaffCredentials;
let running = false;

async function boot(providers: ApiProviders = {}, before: Feature[] = []): Promise<void> {
  api = new ApiFeature(providers);
  clock = new FakeClock(Date.now());
  t = await startTestGateway({}, { clock, features: [...before, api] });
  running = true;
  alice = new StaffStore(t.gateway.db, null).add({ id: 'alice', name: 'Alice', days: 1 }, clock.now())!;
}

afterEach(async () => {
  if (running) await t.stop();
  running = false;
});

const url = (path: string) => `http://127.0.0.1:${t.ports.http}${path}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const get = (path: string, headers: Record<string, string> = bearer(alice.token)) => fetch(url(path), { headers });
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const login = (password: string) => post('/api/login', { staffId: 'alice', password });

function auditEvents(type: string): Array<{ data: Record<string, unknown> }> {
  return t.gateway.db.prepare<[], { payload: Buffer }>("SELECT payload FROM outbox WHERE class = 'audit' ORDER BY seq").all()
    .map((r) => JSON.parse(r.payload.toString())).filter((e) => e.type === type);
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(await res.json()).toEqual({ error: { code, message: { zh: expect.any(String), en: expect.any(String) } } });
}

describe('bearer tokens', () => {
  beforeEach(() => boot());

  it('refuses a request with no token, or a wrong one, with 401 in the error shape', async () => {
    await expectError(await get('/api/outbox', {}), 401, 'UNAUTHORIZED');
    await expectError(await get('/api/outbox', bearer('not-a-token')), 401, 'UNAUTHORIZED');
    await expectError(await get('/api/outbox', { authorization: `Basic ${alice.token}` }), 401, 'UNAUTHORIZED');
  });

  it('serves a valid token, and refuses it once it has expired', async () => {
    const ok = await get('/api/outbox');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ classes: { alarm: { pending: 0 } }, delivered: 0 });
    clock.advance(DAY_MS);
    await expectError(await get('/api/outbox'), 401, 'UNAUTHORIZED');
  });

  it('refuses the very next request after `staff revoke` in another connection, and reports audit/token_revoked once', async () => {
    expect((await get('/api/outbox')).status).toBe(200);
    const cli = openDatabase(join(t.dataDir, 'menwei.db'));
    expect(new StaffStore(cli, null).revoke('alice', Date.now())).toEqual({ tokens: 1, sessions: 0 });
    cli.close();
    await expectError(await get('/api/outbox'), 401, 'UNAUTHORIZED');
    await expectError(await login(alice.password), 401, 'LOGIN_FAILED');
    await api.reportRevocations();
    await api.reportRevocations();
    expect(auditEvents('token_revoked').map((e) => e.data)).toEqual([{ staffId: 'alice', tokens: 1, sessions: 0, revokedAt: expect.any(String) }]);
  });

  it('answers unknown /api routes with 404 and bad input with 400, in the error shape', async () => {
    await expectError(await get('/api/nothing-here'), 404, 'NOT_FOUND');
    await expectError(await get('/api/devices?kind=toaster'), 400, 'BAD_REQUEST');
    await expectError(await post('/api/login', { staffId: 'alice' }), 400, 'BAD_REQUEST');
    await expectError(await fetch(url('/api/login'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"staffId":' }), 400, 'BAD_REQUEST');
    await expectError(await fetch(url('/api/login'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'staffId=alice' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('routes of other features', () => {
  it('puts a route another feature registers under /api/ behind the same auth and CSRF rules', async () => {
    const other: Feature = { attach: (gw) => void gw.http.post('/api/extra', async (req) => ({ by: req.staff?.staffId })) };
    await boot({}, [other]);
    await expectError(await post('/api/extra', {}), 401, 'UNAUTHORIZED');
    expect(await (await post('/api/extra', {}, bearer(alice.token))).json()).toEqual({ by: 'alice' });
    const cookie = { cookie: (await login(alice.password)).headers.get('set-cookie')!.split(';')[0]! };
    await expectError(await post('/api/extra', {}, cookie), 403, 'CSRF_FAILED');
  });
});

describe('console sessions', () => {
  beforeEach(() => boot());

  it('logs in with the password: an HttpOnly SameSite=Strict cookie and a CSRF token', async () => {
    const res = await login(alice.password);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { staffId: string; csrfToken: string };
    expect(body).toEqual({ staffId: 'alice', csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^menwei_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const cookie = { cookie: setCookie.split(';')[0]! };
    expect((await get('/api/units', cookie)).status).toBe(200);
    await expectError(await post('/api/logout', {}, cookie), 403, 'CSRF_FAILED');
    await expectError(await post('/api/logout', {}, { ...cookie, 'x-csrf-token': 'wrong' }), 403, 'CSRF_FAILED');
    expect((await post('/api/logout', {}, { ...cookie, 'x-csrf-token': body.csrfToken })).status).toBe(200);
    await expectError(await get('/api/units', cookie), 401, 'UNAUTHORIZED');
    expect(auditEvents('login').map((e) => e.data)).toEqual([{ staffId: 'alice', source: '127.0.0.1', method: 'password' }]);
  });

  it('refuses an address after 5 failed logins for a minute; the failures are flood-controlled audit events', async () => {
    for (let i = 0; i < 6; i++) await expectError(await login(`guess-${i}`), 401, 'LOGIN_FAILED');
    const refused = await login(alice.password);
    expect(refused.headers.get('retry-after')).toBe('60');
    await expectError(refused, 429, 'TOO_MANY_ATTEMPTS');
    expect(auditEvents('login_failed').map((e) => e.data)).toEqual([{ staffId: 'alice', source: '127.0.0.1' }]);
    clock.advance(60_000);
    await t.gateway.upkeepTick();
    // The minute's summary counts the 5 further failures and the refused attempt.
    expect(auditEvents('login_failed')[1]?.data).toMatchObject({ count: 6, firstAt: expect.any(String), lastAt: expect.any(String) });
    expect((await login(alice.password)).status).toBe(200);
  });
});

describe('read routes', () => {
  it('lists every provisioned device, a never-connected one with online null', async () => {
    await boot({ deviceHealth: (id) => (id === 'smoke-0301' ? { tamper: true } : undefined) });
    const lock = t.provision('lock', 'lock-0301', 'HL-0301');
    t.provision('smoke', 'smoke-0301', 'HL-0301');
    const device = await t.connectDevice('lock-0301', lock.secret);
    const status = { v: 1, online: true, ts: new Date().toISOString(), fw: '1.4.2', batteryPct: 87 };
    await device.publishAsync('menwei/lock/lock-0301/status', JSON.stringify(status), { qos: 1 });
    const res = await get('/api/devices');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      devices: [
        { id: 'lock-0301', kind: 'lock', unit: 'HL-0301', online: true, batteryPct: 87, lastSeenAt: new Date(clock.now()).toISOString(), health: {} },
        { id: 'smoke-0301', kind: 'smoke', unit: 'HL-0301', online: null, batteryPct: null, lastSeenAt: null, health: { tamper: true } },
      ],
    });
    expect(((await (await get('/api/devices?kind=smoke')).json()) as { devices: unknown[] }).devices).toHaveLength(1);
    await device.endAsync();
  });

  it('lists units with what the providers add, and never a code\'s digits', async () => {
    const leaky = { codeId: 'c1', lockId: 'lock-0301', kind: 'stay', validFrom: 'a', validTo: 'b', uses: null, code: '493817' } as const;
    await boot({ occupancy: () => 2, unitState: () => ({ liveCodes: [leaky], unsafe: ['SMOKE_ALARM'] }), alarms: () => [] });
    t.gateway.units.add({ code: 'HL-0301', address: '海淀区某路1号', licensed: true, licenceUntil: '2027-12-31' }, clock.now());
    const body = await (await get('/api/units')).json();
    expect(body).toEqual({
      units: [{
        code: 'HL-0301', address: '海淀区某路1号', operator: null, officer: null, licensed: true, licenceUntil: '2027-12-31',
        suspended: false, suspendReason: null, suspendedUntil: null, occupants: 2,
        liveCodes: [{ codeId: 'c1', lockId: 'lock-0301', kind: 'stay', validFrom: 'a', validTo: 'b', uses: null }], unsafe: ['SMOKE_ALARM'],
      }],
    });
    expect(await (await get('/api/alarms')).json()).toEqual({ alarms: [] });
  });
});

describe('GET /api/events', () => {
  beforeEach(() => boot());

  /** A plain node:http client, so the test sees exactly what goes over the socket. */
  function openStream(): Promise<{ res: IncomingMessage; req: ClientRequest; until(text: string): Promise<string> }> {
    return new Promise((resolve, reject) => {
      const req = request(url('/api/events'), { headers: bearer(alice.token), agent: false }, (res) => {
        let seen = '';
        const waiters: Array<() => void> = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { seen += chunk; for (const w of waiters.splice(0)) w(); });
        res.on('end', () => { for (const w of waiters.splice(0)) w(); });
        const until = async (text: string): Promise<string> => {
          while (!seen.includes(text)) {
            if (res.readableEnded) throw new Error(`stream ended before ${text}: ${seen}`);
            await new Promise<void>((r) => waiters.push(r));
          }
          return seen;
        };
        resolve({ res, req, until });
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('streams a bus event emitted after the client connected, and cleans up when it leaves', async () => {
    const stream = await openStream();
    expect(stream.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await stream.until(': connected');
    const event = { deviceId: 'lock-0301', kind: 'lock', unit: 'HL-0301', online: false, at: new Date().toISOString() };
    t.gateway.bus.emit('device', event);
    expect(await stream.until('event: device')).toContain(`event: device\ndata: ${JSON.stringify(event)}\n\n`);
    stream.req.destroy();
    await expect.poll(() => api.openStreams()).toBe(0);
  });

  it('ends an open stream once its token is revoked', async () => {
    const stream = await openStream();
    await stream.until(': connected');
    new StaffStore(t.gateway.db, null).revoke('alice', clock.now());
    await api.upkeep();
    await expect(stream.until('never')).rejects.toThrow('stream ended');
    expect(api.openStreams()).toBe(0);
  });
});

describe('error codes', () => {
  it('documents every code in docs/API-NOTES.md', () => {
    const notes = readFileSync(new URL('../../docs/API-NOTES.md', import.meta.url), 'utf8');
    for (const code of Object.keys(API_ERRORS)) expect(notes, code).toContain(`\`${code}\``);
  });
});
