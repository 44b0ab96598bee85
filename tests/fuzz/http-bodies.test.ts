// Hostile HTTP requests on every API route (issue 9), with a valid staff token so they
// reach the handlers: each gets a 4xx in the one error shape of INTERFACES.md with a
// registered code, never a 500, a stack trace or an echo of the personal data it carried,
// each is counted, and the server keeps serving.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { StaffStore, badgeKeyFrom } from '../../gateway/staff/staff-store.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { faultOf, hostileRequests, send, PLANTED } from '../helpers/hostile-http.ts';
import { metric } from '../helpers/process-probe.ts';

let gw: TestGateway;
let httpUrl: string;
let token: string;

beforeAll(async () => {
  gw = await startTestGateway();
  httpUrl = `http://127.0.0.1:${gw.ports.http}`;
  token = new StaffStore(gw.gateway.db, badgeKeyFrom(gw.gateway.dataKey)).add({ id: 'clerk-fuzz', name: '王', days: 1 }, Date.now())!.token;
});

afterAll(async () => {
  await gw?.stop();
});

/** Refused requests by status, as /metrics counts them. */
const counted = async () => Object.fromEntries(Object.entries(await metric(httpUrl, 'menwei_http_errors_total')).map(([labels, n]) => [/status="(\d+)"/.exec(labels)![1]!, n]));

describe('hostile HTTP requests', () => {
  it('get a registered 4xx error, never a 500, a stack or an echo, are counted, and the server keeps serving', async () => {
    const faults: string[] = [];
    const refused: Record<string, number> = {};
    const before = await counted();
    await fc.assert(fc.asyncProperty(hostileRequests, async (r) => {
      const answer = await send(httpUrl, token, r);
      const fault = faultOf(r, answer);
      if (fault) faults.push(`${r.name}: ${fault}: ${answer.text.slice(0, 200)}`);
      if (answer.status >= 400 || answer.status === 0) refused[answer.status] = (refused[answer.status] ?? 0) + 1;
      return true;
    }), { numRuns: bySize(400, 20_000) });
    expect(faults).toEqual([]);
    // The counter moves in onResponse, just after the client has its answer.
    // An oversized body cut off mid-write (status 0 here) was still answered 413 and counted.
    const { 0: cutOff = 0, ...answered } = refused;
    await vi.waitFor(async () => {
      const after = await counted();
      const delta = (status: string) => (after[status] ?? 0) - (before[status] ?? 0);
      const expected = cutOff > 0 ? { ...answered, 413: (answered[413] ?? 0) + cutOff } : answered;
      expect(Object.fromEntries(Object.keys(expected).map((status) => [status, delta(status)]))).toEqual(expected);
    }, { timeout: 5_000 });
    const health = await fetch(`${httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const outbox = await fetch(`${httpUrl}/api/outbox`, { headers: { authorization: `Bearer ${token}` } });
    expect(outbox.status).toBe(200);
  }, sizedTimeout(120_000));

  it('answers a body with a prototype-pollution key with 400 and pollutes nothing', async () => {
    const answer = await send(httpUrl, token, { method: 'POST', path: '/api/checkins', contentType: 'application/json', body: '{"readId":"r","unit":"u","__proto__":{"polluted":true}}', name: 'proto' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers a URL with broken percent-encoding in the error shape, without the URL, and counts it', async () => {
    const before = (await counted())['400'] ?? 0;
    const answer = await send(httpUrl, token, { method: 'POST', path: `/api/stays/${PLANTED.idNumber}%E0%A4%A/checkout`, name: 'bad url' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'BAD_REQUEST', message: { zh: expect.any(String), en: expect.any(String) } } });
    expect(answer.text).not.toContain(PLANTED.idNumber);
    await vi.waitFor(async () => expect((await counted())['400']).toBe(before + 1));
  });

  it('does not echo personal data in a JSON syntax error or an unknown key', async () => {
    for (const body of [`{"name":"${PLANTED.name}","idNumber":"${PLANTED.idNumber}"`, `{"${PLANTED.idNumber}":1}`]) {
      const answer = await send(httpUrl, token, { method: 'POST', path: '/api/login', contentType: 'application/json', body, name: 'echo' });
      expect(answer.status).toBe(400);
      expect(answer.text).not.toContain(PLANTED.idNumber);
      expect(answer.text).not.toContain(PLANTED.name);
    }
  });
});
