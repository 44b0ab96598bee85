// After a full check-in day (a walk-in read over the network reader, a platform booking,
// a booked guest, a visitor, a staff code, a refusal, bad input everywhere), the places a
// clerk, a scraper or the platform sees hold no plain ID number, name, address, secret or
// code digits (issue 9; PROTOCOL.md §0 "Masks", §2.1): /metrics, every API error body,
// the read routes, and every upstream event but the registrations, which must carry them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoTime } from '../../protocol/time.ts';
import { DAY, UNIT, cardFor, startScene, type Scene } from '../helpers/checkin-setup.ts';
import { playCheckinDay } from '../helpers/checkin-day.ts';
import { findLeaks, personalDataNeedles, type Needle } from '../helpers/log-scan.ts';

const GUEST = cardFor('11010519491231002X', { name: '欧阳明月', address: '浙江省杭州市西湖区文三路478号' });
const BOOKED = cardFor('320402199003071235', { name: '司马相如', address: '四川省成都市武侯区人民南路四段9号' });
const VISITOR = cardFor('360426199101010071', { name: '诸葛孔明', address: '湖北省襄阳市隆中路1号' });
/** Never checked in: the face does not match. */
const STRANGER = cardFor('120103198806018241', { name: '陈思思' });

let s: Scene;
const codes: string[] = [];
const errorBodies: Array<[string, string]> = [];

beforeAll(async () => {
  s = await startScene();
  codes.push(...(await playCheckinDay(s, { walkIn: GUEST, booked: BOOKED, visitor: VISITOR })).codes);
  const refusedRead = s.read(STRANGER);
  s.verify(refusedRead, { score: 0.2 });
  expect((await s.walkIn(refusedRead)).status).toBe(422);
  expect(codes).toHaveLength(4);
  await collectErrorBodies();
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

/** Bad requests that carry personal data in every place a careless error message would echo it. */
async function collectErrorBodies(): Promise<void> {
  const url = `http://127.0.0.1:${s.tg.ports.http}`;
  const send = async (what: string, path: string, body: string | undefined, headers: Record<string, string> = {}, method = 'POST') => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${s.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, ...(body === undefined ? {} : { body }) });
    expect(res.status, what).toBeGreaterThanOrEqual(400);
    errorBodies.push([what, await res.text()]);
  };
  const json = (v: unknown) => JSON.stringify(v);
  await send('a read id that is an ID number', '/api/checkins', json({ readId: GUEST.idNumber, unit: UNIT, expectedCheckout: isoTime(s.clock.now() + DAY) }));
  await send('a unit that is a name', '/api/checkins', json({ readId: 'r_x', unit: GUEST.name }));
  await send('personal data in wrong types', '/api/checkins', json({ readId: [GUEST.idNumber], unit: { name: GUEST.name }, guardian: { name: GUEST.name, phone: GUEST.idNumber, relation: GUEST.address } }));
  await send('a broken JSON body around an ID number', '/api/checkins', `{"readId":"${GUEST.idNumber}","unit":"${GUEST.name}`);
  await send('a visitor with a code as stay', '/api/visitors', json({ readId: GUEST.idNumber, stayId: codes[0] }));
  await send('a reissue for an unknown stay named by an ID', `/api/stays/${GUEST.idNumber}/codes`, json({ readId: GUEST.name }));
  await send('a checkout of a stay named by a code', `/api/stays/${codes[0]}/checkout`, json({}));
  await send('a staff code for a staff id that is a name', '/api/staff-codes', json({ unit: UNIT, staffId: GUEST.name }));
  await send('a login as an ID number with a code as password', '/api/login', json({ staffId: GUEST.idNumber, password: codes[0] }), { authorization: '' });
  await send('a login with the API token typed as staff id', '/api/login', json({ staffId: s.token, password: 'x' }), { authorization: '' });
  await send('a bearer token that is a code', '/api/units', undefined, { authorization: `Bearer ${codes[0]}` }, 'GET');
  await send('an unknown route named by an ID number', `/api/${GUEST.idNumber}?name=${encodeURIComponent(GUEST.name)}`, undefined, {}, 'GET');
  await send('a bookings query with a name', `/api/console/bookings?readId=${encodeURIComponent(GUEST.name)}&x=${GUEST.idNumber}`, undefined, {}, 'GET');
  await send('a wrong content type', '/api/checkins', `readId=${GUEST.idNumber}`, { 'content-type': 'text/plain' });
}

function needles(): Needle[] {
  const literal = (what: string, value: string): Needle => ({ what, find: (line) => line.indexOf(value) });
  return [
    ...personalDataNeedles(),
    ...codes.map((c) => ({ what: `code ${c.slice(0, 2)}******`, find: (line: string) => line.search(new RegExp(`(?<!\\d)${c}(?!\\d)`)) })),
    literal('the staff token', s.token),
  ];
}

const leaksIn = (label: string, text: string) => findLeaks(text.split('\n'), needles(), label);

describe('no personal data, secret or code where it does not belong', () => {
  it('every API error body answers in the error shape and echoes none of what it was sent', () => {
    expect(errorBodies).toHaveLength(14);
    for (const [what, body] of errorBodies) {
      // A registered error, or a check-in refusal with its reason (CHECKIN.md "The decision").
      const parsed = JSON.parse(body) as { error?: { code: string }; reason?: string };
      expect(parsed.error?.code ?? parsed.reason, what).toEqual(expect.any(String));
      expect(leaksIn(what, body)).toEqual([]);
    }
  });

  it('/metrics names devices, reasons and sources, never a person, secret or code', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${s.tg.ports.http}/metrics`)).text();
    expect(metrics).toContain('menwei_outbox_pending');
    expect(leaksIn('/metrics', metrics)).toEqual([]);
  });

  it('the read routes show people masked', async () => {
    for (const path of ['/api/reads', '/api/units', '/api/devices', '/api/outbox', '/api/alarms', '/api/console/stays']) {
      const res = await s.get(path);
      expect(res.status, path).toBe(200);
      expect(leaksIn(path, JSON.stringify(res.body))).toEqual([]);
    }
  });

  it('upstream, only registrations carry the full identity; every other event is masked', () => {
    const events = s.events();
    const registrations = events.filter((e) => e.class === 'registration');
    // The control: the scan does see identities where the police duty requires them (§2.1).
    expect(registrations.map((e) => leaksIn('registration', JSON.stringify(e)).length)).toEqual([1, 1, 1]);
    const others = events.filter((e) => e.class !== 'registration');
    expect(others.map((e) => `${e.class}/${e.type}`)).toEqual(expect.arrayContaining(['audit/code_issued', 'security/checkin_refused', 'reply/booking.upsert']));
    expect(others.flatMap((e) => leaksIn(`${e.class}/${e.type}`, JSON.stringify(e)))).toEqual([]);
    // What was typed into an identifier field is replaced, not repeated (gateway/typed-text.ts).
    expect(s.events('security/checkin_refused').map((e) => e.data.unit)).toContain('[not an identifier]');
    expect(s.events('audit/login_failed')[0]?.data).toEqual({ staffId: '[unknown]', source: '127.0.0.1' });
  });

  it('a platform command with bad personal data is refused without repeating it', async () => {
    const reply = await s.command('booking.upsert', {
      bookingId: 'bk-bad', unit: UNIT, from: isoTime(s.clock.now()), to: isoTime(s.clock.now() + DAY),
      guests: [{ name: 123, idNumber: `${GUEST.idNumber.slice(0, 17)}0` }, { name: GUEST.name, idNumber: 42 }],
    });
    expect(reply).toMatchObject({ status: 'error', error: { code: 'INVALID' } });
    expect(leaksIn('reply', JSON.stringify(reply))).toEqual([]);
    expect(JSON.stringify(reply)).not.toContain(GUEST.idNumber.slice(0, 17));
  });
});
