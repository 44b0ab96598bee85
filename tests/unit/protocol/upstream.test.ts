import { describe, expect, it } from 'vitest';
import { validateUpstreamEvent } from '../../../protocol/validate.ts';
import { upstreamTopic, matchUpstreamTopic } from '../../../protocol/topics.ts';
import { EVENT_CLASSES, EVENT_DATA } from '../../../protocol/upstream.ts';

const envelope = (over: Record<string, unknown> = {}) => ({
  v: 1,
  eventId: '01JDX3Q5S6T7V8W9XAYBZC0D1E',
  gatewayId: 'gw-hl-0001',
  seq: 1234,
  bootId: 'b-1',
  class: 'alarm',
  type: 'smoke',
  unit: 'HL-MY-0301',
  deviceId: 'smoke-0301',
  deviceTs: '2026-11-30T10:00:00.000Z',
  gatewayTs: '2026-11-30T10:00:00.012Z',
  data: { value: 640, occupants: 2, deviceSeq: 7 },
  ...over,
});
const json = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('upstream events (PROTOCOL.md §2.1)', () => {
  it('accepts the spec example of alarm/smoke', () => {
    const topic = upstreamTopic('gw-hl-0001', 'alarm', 'smoke');
    expect(topic).toBe('menwei/up/gw-hl-0001/alarm/smoke');
    expect(validateUpstreamEvent(topic, json(envelope())).ok).toBe(true);
  });

  it('ranks alarm first and drops only device and audit', () => {
    const droppable = Object.entries(EVENT_CLASSES).filter(([, c]) => c.droppable).map(([n]) => n);
    expect(droppable.sort()).toEqual(['audit', 'device']);
    expect(Math.min(...Object.values(EVENT_CLASSES).map((c) => c.priority))).toBe(EVENT_CLASSES.alarm.priority);
  });

  it('lists every type of the §2.1 table', () => {
    expect(Object.keys(EVENT_DATA.security)).toHaveLength(12);
    expect(Object.keys(EVENT_DATA.device).sort()).toEqual(
      ['bad_message', 'battery_low', 'end_of_life', 'fault', 'offline', 'online', 'restored', 'test'],
    );
  });

  it('refuses an envelope whose class disagrees with its topic', () => {
    const result = validateUpstreamEvent('menwei/up/gw-hl-0001/device/smoke', json(envelope()));
    expect(result).toMatchObject({ ok: false, error: { field: 'type' } });
  });

  it('names the data field that is wrong', () => {
    const result = validateUpstreamEvent('menwei/up/gw-hl-0001/alarm/smoke', json(envelope({ data: { value: 1 } })));
    expect(result).toMatchObject({ ok: false, error: { field: 'data.occupants' } });
  });

  it('refuses a non-ULID eventId', () => {
    const result = validateUpstreamEvent('menwei/up/gw-hl-0001/alarm/smoke', json(envelope({ eventId: 'abc' })));
    expect(result).toMatchObject({ ok: false, error: { field: 'eventId' } });
  });

  it('matches upstream topics and refuses others', () => {
    expect(matchUpstreamTopic('menwei/up/gw-1/reply/unit.suspend')).toMatchObject({ ok: true, value: { eventClass: 'reply', type: 'unit.suspend' } });
    expect(matchUpstreamTopic('menwei/up/gw-1/alarm').ok).toBe(false);
  });
});
