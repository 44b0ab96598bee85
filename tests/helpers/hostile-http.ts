// Hostile requests for every route of the HTTP API (INTERFACES.md, docs/API-NOTES.md;
// issue 9): bodies that are not JSON, JSON of the wrong shape, the right shape with junk
// in each field, prototype-pollution keys, deep nesting, bodies over the limit and wrong
// content types, many of them carrying planted personal data that no answer may echo.
import fc from 'fast-check';
import { API_ERRORS } from '../../gateway/http/errors.ts';

/** Planted in bodies, paths and queries: an answer that contains any of them leaks (invariant 8). */
export const PLANTED = { idNumber: '11010519491231002X', name: '欧阳娜娜', phone: '13800138000' };

/** The POST routes with the fields their bodies take (so junk lands in real fields too). */
const POSTS: Array<{ path: (param: string) => string; fields: string[] }> = [
  { path: () => '/api/login', fields: ['staffId', 'password', 'badge', 'desk'] },
  { path: () => '/api/logout', fields: [] },
  { path: () => '/api/checkins', fields: ['readId', 'unit', 'bookingId', 'expectedCheckout', 'override', 'guardian'] },
  { path: () => '/api/visitors', fields: ['readId', 'stayId', 'guardian'] },
  { path: (p) => `/api/stays/${p}/codes`, fields: ['readId'] },
  { path: () => '/api/staff-codes', fields: ['unit', 'staffId'] },
  { path: (p) => `/api/stays/${p}/checkout`, fields: [] },
  { path: (p) => `/api/alarms/${p}/ack`, fields: [] },
];

/** The GET routes with their query parameters (the SSE stream is left out: it never ends). */
const GETS: Array<{ path: string; params: string[] }> = [
  { path: '/api/outbox', params: [] },
  { path: '/api/devices', params: ['kind', 'unit'] },
  { path: '/api/units', params: [] },
  { path: '/api/alarms', params: [] },
  { path: '/api/reads', params: ['desk'] },
  { path: '/api/config/console', params: [] },
  { path: '/api/console/stays', params: [] },
  { path: '/api/console/bookings', params: ['readId'] },
  { path: '/api/no-such-route', params: [] },
];

export type HostileRequest = { method: 'GET' | 'POST'; path: string; contentType?: string; body?: string; name: string };

const planted = fc.constantFrom(...Object.values(PLANTED));
const junk: fc.Arbitrary<unknown> = fc.oneof(
  planted, fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.array(fc.oneof(planted, fc.string()), { maxLength: 3 }), fc.object({ maxDepth: 2 }),
  fc.string({ minLength: 65, maxLength: 2000 }),
);

function deep(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** JSON texts: well-formed but hostile, and broken ones. */
const jsonText: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.dictionary(fc.oneof(fc.string(), planted), junk).map((o) => JSON.stringify(o)),
  fc.constantFrom(
    `{"__proto__":{"admin":true,"staffId":"${PLANTED.idNumber}"}}`,
    '{"constructor":{"prototype":{"admin":true}}}',
    `{"readId":"x","unit":"u","__proto__":{"polluted":1}}`,
    `{"${PLANTED.idNumber}":"${PLANTED.name}"}`,
    `{"staffId":"${PLANTED.idNumber}","password":"${PLANTED.phone}","extra":1}`,
  ),
  fc.integer({ min: 100, max: 20_000 }).map((d) => deep(d, '[', ']')),
  fc.integer({ min: 100, max: 20_000 }).map((d) => deep(d, '{"a":', '}')),
  fc.string().map((s) => `{"idNumber":"${PLANTED.idNumber}", ${s}`),
  fc.constantFrom(`${PLANTED.idNumber}`, `name=${PLANTED.name}`, '', 'null', '[]', '"', '{', '\u0000', '\ufeff{}'),
);

/** A valid-looking body of the route with one field replaced by junk. */
function fieldJunk(fields: string[]): fc.Arbitrary<string> {
  if (fields.length === 0) return jsonText;
  return fc.record({ field: fc.constantFrom(...fields), value: junk }).map(({ field, value }) => {
    const body: Record<string, unknown> = { readId: 'r_01JD', unit: 'HL-MY-0301', stayId: 's_01JD', staffId: 'clerk-1', password: 'x', [field]: value };
    return JSON.stringify(body);
  });
}

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=latin1', 'json', '');

const pathParam = fc.oneof(fc.string({ maxLength: 80 }), planted, fc.constantFrom('..%2F..%2Fetc%2Fpasswd', '%00', '%E0%A4%A', 'x'.repeat(300)))
  .map((s) => (s.includes('%') ? s : encodeURIComponent(s)) || 'x');

const posts: fc.Arbitrary<HostileRequest> = fc.record({
  route: fc.constantFrom(...POSTS), param: pathParam, contentType,
  body: fc.oneof(jsonText, fc.constant(null)),
  bodyOfRoute: fc.boolean(),
}).chain(({ route, param, contentType, body, bodyOfRoute }) => (bodyOfRoute ? fieldJunk(route.fields) : fc.constant(body)).map((text) => ({
  method: 'POST' as const, path: route.path(param), contentType, ...(text === null ? {} : { body: text }), name: `POST ${route.path(':p')} as ${contentType || 'no type'}`,
})));

const hugeBody: fc.Arbitrary<HostileRequest> = fc.record({ route: fc.constantFrom(...POSTS), kb: fc.integer({ min: 257, max: 2048 }) })
  .map(({ route, kb }) => ({ method: 'POST' as const, path: route.path('x'), contentType: 'application/json', body: `{"a":"${'x'.repeat(kb * 1024)}"}`, name: `POST ${route.path(':p')} with ${kb} KiB` }));

const gets: fc.Arbitrary<HostileRequest> = fc.record({
  route: fc.constantFrom(...GETS),
  query: fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('kind', 'unit', 'desk', 'readId', '__proto__', 'constructor')), fc.oneof(fc.string(), planted), { maxKeys: 3 }),
}).map(({ route, query }) => {
  const qs = new URLSearchParams(query as Record<string, string>).toString();
  return { method: 'GET' as const, path: qs ? `${route.path}?${qs}` : route.path, name: `GET ${route.path}` };
});

export const hostileRequests: fc.Arbitrary<HostileRequest> = fc.oneof({ arbitrary: posts, weight: 6 }, { arbitrary: gets, weight: 3 }, { arbitrary: hugeBody, weight: 1 });

/** The codes an API answer may carry: the registry, and the resource errors of API-NOTES.md. */
export const KNOWN_ERROR_CODES = new Set([...Object.keys(API_ERRORS), 'UNKNOWN_STAY', 'STAY_CLOSED', 'UNKNOWN_ALARM']);

export type Answer = { status: number; text: string };

/** The API's body limit (gateway/http/server.ts). */
const BODY_LIMIT = 256 * 1024;

/**
 * Sends the request. Status 0 means the server closed the connection while a body over
 * the limit was still being written (EPIPE/ECONNRESET on our side): a refusal too, but
 * one whose answer the client may never read.
 */
export async function send(httpUrl: string, token: string, r: HostileRequest): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (r.contentType) headers['content-type'] = r.contentType;
  try {
    const res = await fetch(`${httpUrl}${r.path}`, { method: r.method, headers, ...(r.body !== undefined ? { body: r.body } : {}) });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if ((r.body?.length ?? 0) > BODY_LIMIT) return { status: 0, text: '' };
    throw err;
  }
}

/** What is wrong with an answer, or null: no 5xx, the one error shape, no stack, no echo. */
export function faultOf(r: HostileRequest, a: Answer): string | null {
  if (a.status === 0) return null;
  if (a.status >= 500) return `${a.status}`;
  for (const value of Object.values(PLANTED)) if (a.text.includes(value)) return `echoes ${value}`;
  if (/\bat .*\.(ts|js):\d+/.test(a.text) || a.text.includes('node_modules')) return 'stack trace';
  if (a.status < 400) return r.method === 'GET' || r.path === '/api/logout' ? null : `${a.status} for a hostile body`;
  let body: any;
  try {
    body = JSON.parse(a.text);
  } catch {
    return 'error answer is not JSON';
  }
  // CHECKIN.md decisions are 422 {reason, message}; every other error is {error: {code, message}}.
  const message = a.status === 422 ? body?.message : body?.error?.message;
  if (typeof message?.zh !== 'string' || typeof message?.en !== 'string') return 'no zh/en message';
  if (a.status !== 422 && !KNOWN_ERROR_CODES.has(body.error.code)) return `unknown code ${body.error.code}`;
  return null;
}
