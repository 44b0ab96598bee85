// A LAN host guessing device credentials (PROTOCOL.md §1 Refusals, §2.3; issue 9): the
// failures count per source address whatever device ids it tries, so enumerating ids
// does not escape the throttle; the blocked address is refused for a minute of monotonic
// time even with a right secret, while devices on other addresses are not affected; and
// the platform sees one auth_failed at once and the rest in the minute's summary.
// (Guessing one id's secret is tests/integration/gateway-ops.test.ts.)
import { createConnection } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttClient } from 'mqtt';
import { connectDevice, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { FakeClock } from '../../gateway/clock.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

/** A device session from another loopback address (the whole of 127/8 reaches this host). */
function connectFrom(localAddress: string, port: number, id: string, secret: string): Promise<MqttClient> {
  const client = new MqttClient(() => createConnection({ host: '127.0.0.1', port, localAddress }), {
    clientId: id, username: id, password: secret, protocolVersion: 4, reconnectPeriod: 0,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

const authFailed = (g: TestGateway) => g.gateway.db.prepare<[], { payload: Buffer }>("SELECT payload FROM outbox WHERE class = 'security'").all()
  .map((r) => JSON.parse(r.payload.toString()) as { type: string; data: Record<string, unknown> })
  .filter((e) => e.type === 'auth_failed');

describe('a secret typed into the wrong field', () => {
  it('is not repeated in the auth_failed report: a username that is no device id is replaced', async () => {
    gw = await startTestGateway();
    const lock = gw.provision('lock', 'lock-swapped');
    await expect(connectDevice(gw.brokerUrl, lock.secret, 'lock-swapped', { clientId: lock.secret })).rejects.toMatchObject({ code: 4 });
    await expect(connectDevice(gw.brokerUrl, 'lock-unknown', lock.secret)).rejects.toMatchObject({ code: 4 });
    const reported = authFailed(gw).map((e) => e.data.deviceId);
    expect(reported[0]).toBe('[not an identifier]');
    expect(JSON.stringify(authFailed(gw))).not.toContain(lock.secret);
  });
});

describe('guessing device credentials', () => {
  it('throttles an address that tries many device ids, for one minute, and not its neighbours', async () => {
    const clock = new FakeClock(Date.now());
    gw = await startTestGateway({}, { clock });
    const lock = gw.provision('lock', 'lock-real');
    const smoke = gw.provision('smoke', 'smoke-real');
    const guesses: Array<[string, string]> = [['lock-0101', 'x'], ['lock-0102', 'x'], ['lock-real', 'guess'], ['smoke-real', lock.secret], ['admin', 'admin'], ['lock-0103', 'x']];
    for (const [id, secret] of guesses) await expect(connectDevice(gw.brokerUrl, id, secret)).rejects.toMatchObject({ code: 4 });

    // Refused without checking: the right secret does not help.
    await expect(connectDevice(gw.brokerUrl, 'lock-real', lock.secret)).rejects.toMatchObject({ code: 5 });
    const neighbour = await connectFrom('127.0.0.2', gw.ports.broker, 'smoke-real', smoke.secret);
    expect(neighbour.connected).toBe(true);
    neighbour.end(true);

    clock.advance(59_000);
    await expect(connectDevice(gw.brokerUrl, 'lock-real', lock.secret)).rejects.toMatchObject({ code: 5 });
    clock.advance(1_000);
    const back = await connectDevice(gw.brokerUrl, 'lock-real', lock.secret);
    expect(back.connected).toBe(true);
    back.end(true);

    // PROTOCOL.md §2.3: one event at once, then one summary for the minute.
    expect(authFailed(gw)).toHaveLength(1);
    await gw.gateway.upkeepTick();
    const [first, summary] = authFailed(gw);
    expect(first!.data).toMatchObject({ source: '127.0.0.1' });
    expect(summary?.data).toMatchObject({ count: expect.any(Number), firstAt: expect.any(String), lastAt: expect.any(String) });
    expect(summary!.data.count).toBeGreaterThanOrEqual(guesses.length - 1);
  });
});
