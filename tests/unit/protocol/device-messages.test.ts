import { describe, expect, it } from 'vitest';
import { validateDeviceMessage } from '../../../protocol/validate.ts';
import { DEVICE_SAMPLES } from '../../helpers/samples.ts';

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('device messages (PROTOCOL.md §1)', () => {
  it.each(DEVICE_SAMPLES)('$topic accepts a valid $payload.type payload', ({ topic, payload }) => {
    const result = validateDeviceMessage(topic, json(payload));
    expect(result.ok).toBe(true);
  });

  it('returns the kind, device id and channel of the topic', () => {
    const result = validateDeviceMessage('menwei/lock/lock-0301/pull', json({ v: 1, reqId: 'r', have: 0 }));
    expect(result).toMatchObject({ ok: true, value: { kind: 'lock', deviceId: 'lock-0301', channel: 'pull', direction: 'fromDevice' } });
  });

  it('ignores unknown extra fields instead of refusing them', () => {
    const result = validateDeviceMessage('menwei/smoke/smoke-0301/status', json({ v: 1, online: true, vendorX: 1 }));
    expect(result.ok && result.value.payload).toEqual({ v: 1, online: true });
  });

  it.each(DEVICE_SAMPLES)('$topic names each missing required field', ({ topic, payload }) => {
    for (const field of Object.keys(payload)) {
      const { [field]: _dropped, ...rest } = payload;
      const result = validateDeviceMessage(topic, json(rest));
      if (result.ok) continue; // an optional field
      // `unchanged` and `codes` are either/or (§1.3): the error names the list.
      expect(result.error.field).toBe(field === 'unchanged' ? 'codes' : field);
      expect(result.error.reason).toBe('INVALID');
    }
  });

  it.each(DEVICE_SAMPLES)('$topic names a field of the wrong type', ({ topic, payload }) => {
    const field = Object.keys(payload).find((k) => k !== 'v')!;
    const result = validateDeviceMessage(topic, json({ ...payload, [field]: { wrong: [] } }));
    expect(result).toMatchObject({ ok: false, error: { code: 'MW_MSG_INVALID', field } });
  });

  it('refuses a payload over 64 KiB before parsing it', () => {
    const payload = json({ v: 1, online: true, fw: 'x'.repeat(64 * 1024) });
    const result = validateDeviceMessage('menwei/lock/lock-0301/status', payload);
    expect(result).toMatchObject({ ok: false, error: { code: 'MW_MSG_TOO_LARGE', reason: 'TOO_LARGE' } });
  });

  it.each([
    ['not JSON', Buffer.from('{"v":1,')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
    ['a JSON array', json([1, 2])],
    ['JSON null', json(null)],
  ])('refuses %s', (_name, payload) => {
    const result = validateDeviceMessage('menwei/lock/lock-0301/status', payload);
    expect(result).toMatchObject({ ok: false, error: { code: 'MW_MSG_NOT_JSON', reason: 'NOT_JSON' } });
  });

  it('calls another v UNSUPPORTED_VERSION', () => {
    const result = validateDeviceMessage('menwei/lock/lock-0301/status', json({ v: 2, online: true }));
    expect(result).toMatchObject({ ok: false, error: { reason: 'UNSUPPORTED_VERSION', field: 'v' } });
  });

  it('requires a codeId on a code unlock', () => {
    const result = validateDeviceMessage('menwei/lock/lock-0301/event', json({ v: 1, seq: 1, ts: '2026-11-30T10:00:00Z', type: 'unlock', method: 'code' }));
    expect(result).toMatchObject({ ok: false, error: { field: 'codeId' } });
  });

  it('accepts device times with any RFC 3339 zone and refuses zoneless ones', () => {
    const event = (ts: string) => json({ v: 1, seq: 1, ts, type: 'tamper' });
    expect(validateDeviceMessage('menwei/lock/lock-0301/event', event('2026-11-30T18:00:00+08:00')).ok).toBe(true);
    expect(validateDeviceMessage('menwei/lock/lock-0301/event', event('2026-11-30T18:00:00')).ok).toBe(false);
  });

  it.each([
    ['menwei/lock/lock-0301/card', 'MW_TOPIC_UNKNOWN'],
    ['menwei/fridge/f-001/event', 'MW_TOPIC_UNKNOWN'],
    ['menwei/lock/LOCK_1/event', 'MW_TOPIC_BAD_DEVICE_ID'],
    ['menwei/lock/lock-0301/event/extra', 'MW_TOPIC_UNKNOWN'],
    ['other/lock/lock-0301/event', 'MW_TOPIC_UNKNOWN'],
  ])('refuses topic %s with %s', (topic, code) => {
    const result = validateDeviceMessage(topic, json({ v: 1 }));
    expect(result).toMatchObject({ ok: false, error: { code, reason: 'TOPIC' } });
  });

  it('refuses a seq outside uint32 and a smoke density over 1000', () => {
    const T = '2026-11-30T10:00:00Z';
    expect(validateDeviceMessage('menwei/smoke/smoke-1/event', json({ v: 1, seq: 2 ** 32, ts: T, type: 'test' })))
      .toMatchObject({ ok: false, error: { field: 'seq' } });
    expect(validateDeviceMessage('menwei/smoke/smoke-1/event', json({ v: 1, seq: 1, ts: T, type: 'alarm', value: 1001 })))
      .toMatchObject({ ok: false, error: { field: 'value' } });
  });
});
