// A staff token cannot be used after it is revoked (issue 9, INTERFACES.md `staff revoke`):
// the gateway runs as its own process, `menwei staff revoke` runs as another, and at the
// very next request neither the API token nor the console session opened with the
// password works, an open event stream on the session ends, and the password no longer
// logs in. The revocation is reported once as audit/token_revoked.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { until } from '../helpers/wait.ts';

let proc: GatewayProcess;
beforeAll(async () => {
  proc = await gatewayProcess();
  await proc.start();
}, 60_000);
afterAll(async () => {
  await proc?.destroy();
});

type Staff = { id: string; token: string; password: string };

const api = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) => fetch(`${proc.httpUrl}${path}`, { ...init, headers });
const login = (staffId: string, password: string) => fetch(`${proc.httpUrl}/api/login`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ staffId, password }),
});

/** Reads an event stream until it ends; resolves then. */
async function streamEnded(res: Response): Promise<void> {
  const reader = res.body!.getReader();
  while (!(await reader.read()).done) { /* keep reading until the gateway ends it */ }
}

function auditTokenRevoked(): Array<Record<string, unknown>> {
  const db = new Database(join(proc.dataDir, 'menwei.db'), { readonly: true });
  try {
    return db.prepare<[], { payload: Buffer }>("SELECT payload FROM outbox WHERE class = 'audit'").all()
      .map((r) => JSON.parse(r.payload.toString()) as { type: string; data: Record<string, unknown> })
      .filter((e) => e.type === 'token_revoked').map((e) => e.data);
  } finally {
    db.close();
  }
}

describe('staff revoke from another process', () => {
  it('stops the API token, the console session and its event stream at once, and the password', async () => {
    const [alice] = (await proc.cli(['staff', 'add', '--id', 'alice', '--name', 'Alice'])) as Staff[];
    const bearer = { authorization: `Bearer ${alice!.token}` };
    const loggedIn = await login('alice', alice!.password);
    expect(loggedIn.status).toBe(200);
    const { csrfToken } = (await loggedIn.json()) as { csrfToken: string };
    const cookie = { cookie: loggedIn.headers.get('set-cookie')!.split(';')[0]! };
    expect((await api('/api/units', bearer)).status).toBe(200);
    expect((await api('/api/units', cookie)).status).toBe(200);
    const stream = await api('/api/events', cookie);
    expect(stream.status).toBe(200);
    const ended = streamEnded(stream);

    expect(await proc.cli(['staff', 'revoke', '--id', 'alice'])).toEqual([{ id: 'alice', revoked: true }]);

    expect((await api('/api/units', bearer)).status).toBe(401);
    expect((await api('/api/units', cookie)).status).toBe(401);
    expect((await api('/api/logout', { ...cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await login('alice', alice!.password)).status).toBe(401);
    await ended;
    await until(() => auditTokenRevoked().length > 0, 10_000);
    expect(auditTokenRevoked()).toEqual([{ staffId: 'alice', tokens: 1, sessions: 1, revokedAt: expect.any(String) }]);
  }, 60_000);
});
