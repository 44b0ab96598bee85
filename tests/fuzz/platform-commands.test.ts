// Hostile platform commands on the real Mosquitto upstream (PROTOCOL.md §2.2, §2.3; issue
// 9): broken JSON, no or bad commandId, junk fields, other versions, unknown commands,
// expired ones, a commandId reused for another body, and over 64 KiB. Each gets the answer
// the spec gives it, is counted, bad_command reports are aggregated, and a good command
// still works afterwards.
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { analyse } from '../helpers/upstream-checks.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { hostileCommands, SPEC_CODES, type HostileCommand } from '../helpers/hostile-commands.ts';

type Reply = { eventId: string; class: string; type: string; data: { commandId: string; status: 'ok' | 'error'; error?: { code: string } } };

let upstream: Mosquitto;
let platform: Subscriber;
let commander: MqttClient;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#', { clientId: 'platform-fuzz-commands' });
  commander = await mqtt.connectAsync(upstream.url, { clientId: 'platform-commander', protocolVersion: 4 });
  gw = await startTestGateway({ upstream: { url: upstream.url } });
  gw.gateway.units.add({ code: 'HL-MY-0301', address: '海淀区某路1号', licensed: true }, Date.now());
  await platform.waitFor((ms) => ms.some((m) => m.topic.endsWith('/gateway/started')), 20_000);
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await commander?.endAsync();
  await platform?.close();
  await upstream?.destroy();
});

const replies = () => (analyse(platform.messages).unique as unknown as Reply[]).filter((e) => e.class === 'reply');
const outcomes = () => ({ ...gw.gateway.commands.outcomes });

describe('hostile platform commands', () => {
  it('each get the answer of §2.2, are counted, and bad_command reports are aggregated', async () => {
    let next = 0;
    const sent: HostileCommand[] = [];
    const before = outcomes();
    await fc.assert(fc.asyncProperty(hostileCommands('gw-test', () => `fz-${++next}`), async (group) => {
      for (const c of group) {
        await commander.publishAsync(c.topic, c.payload, { qos: 1 });
        sent.push(c);
      }
      return true;
    }), { numRuns: bySize(400, 10_000) });

    const expectReply = sent.filter((c) => c.expected.kind === 'reply');
    await platform.waitFor(() => replies().length >= expectReply.length, 60_000);
    const byId = new Map<string, Reply[]>();
    for (const r of replies()) byId.set(r.data.commandId, [...(byId.get(r.data.commandId) ?? []), r]);
    const wrong: string[] = [];
    const casesById = new Map<string, HostileCommand[]>();
    for (const c of expectReply) if (c.expected.kind === 'reply') casesById.set(c.expected.commandId, [...(casesById.get(c.expected.commandId) ?? []), c]);
    for (const [commandId, cases] of casesById) {
      const got = byId.get(commandId) ?? [];
      if (got.length !== cases.length) wrong.push(`${commandId} (${cases[0]!.name}): ${got.length} replies for ${cases.length} commands`);
      cases.forEach((c, i) => {
        const r = got[i];
        const want = c.expected.kind === 'reply' ? c.expected.code : undefined;
        if (r?.data.status === 'error' && !SPEC_CODES.has(r.data.error!.code)) wrong.push(`${c.name}: code ${r.data.error!.code} is not in §2.2`);
        if (want && r?.data.error?.code !== want) wrong.push(`${c.name}: ${r?.data.error?.code ?? r?.data.status} instead of ${want}`);
      });
      // §2.2: a repeat gets the same reply again.
      if (cases.length === 3 && got.length === 3) expect(got[2]!.data).toEqual(got[0]!.data);
    }
    expect(wrong).toEqual([]);
    // Cases without a readable commandId got no reply at all.
    const expectedIds = new Set(casesById.keys());
    expect(replies().map((r) => r.data.commandId).filter((id) => !expectedIds.has(id))).toEqual([]);

    // Counted: every answer and every bad_command.
    const after = outcomes();
    const bad = sent.length - expectReply.length;
    expect(after.ok + after.error - before.ok - before.error).toBe(expectReply.length);
    expect(after.bad_command - before.bad_command).toBe(bad);
    // §2.3: the first bad_command at once, the rest in one summary per minute.
    const reports = analyse(platform.messages).unique.filter((e) => e.class === 'gateway' && (e as unknown as Reply).type === 'bad_command');
    if (bad > 0) expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.length).toBeLessThanOrEqual(Math.ceil(process.uptime() / 60) + 1);
  }, sizedTimeout(120_000));

  it('answers a command of another version with INVALID under its commandId, not with silence', async () => {
    await commander.publishAsync('menwei/down/gw-test/unit.resume', JSON.stringify({ v: 2, commandId: 'v2-1', expiresAt: '2099-01-01T00:00:00.000Z', unit: 'HL-MY-0301' }), { qos: 1 });
    await platform.waitFor(() => replies().some((r) => r.data.commandId === 'v2-1'), 20_000);
    expect(replies().find((r) => r.data.commandId === 'v2-1')).toMatchObject({ type: 'unit.resume', data: { status: 'error', error: { code: 'INVALID' } } });
  }, 30_000);

  it('still applies a good command afterwards', async () => {
    await commander.publishAsync('menwei/down/gw-test/unit.suspend', JSON.stringify({ v: 1, commandId: 'good-1', expiresAt: '2099-01-01T00:00:00.000Z', unit: 'HL-MY-0301', reason: '消防整改' }), { qos: 1 });
    await platform.waitFor(() => replies().some((r) => r.data.commandId === 'good-1'), 20_000);
    expect(replies().find((r) => r.data.commandId === 'good-1')?.data).toEqual({ commandId: 'good-1', status: 'ok' });
    expect(gw.gateway.units.list().find((u) => u.code === 'HL-MY-0301')?.suspended).toBe(true);
  }, 30_000);
});
