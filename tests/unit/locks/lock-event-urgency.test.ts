// Which lock events commit in the urgent lane (ARCHITECTURE.md invariant 4): exactly those
// that handle() turns into a `security` event, as far as the payload tells before the commit.
import { describe, expect, it } from 'vitest';
import { LockEventPayload } from '../../../protocol/device-messages.ts';
import { LockEvents } from '../../../gateway/locks/lock-events.ts';

const urgent = (fields: Record<string, unknown>) =>
  LockEvents.isUrgent(LockEventPayload.parse({ v: 1, seq: 1, ts: '2026-11-30T02:00:00.000Z', ...fields }));

describe('lock events in the urgent lane', () => {
  it('takes tamper, lockout, a reported wrong-code run and a mechanical key', () => {
    expect(urgent({ type: 'tamper' })).toBe(true);
    expect(urgent({ type: 'lockout', until: '2026-11-30T02:05:00.000Z' })).toBe(true);
    expect(urgent({ type: 'wrong_code', count: 3 })).toBe(true);
    expect(urgent({ type: 'unlock', method: 'key' })).toBe(true);
  });

  it('leaves ordinary events and wrong codes below the reporting threshold in the batch', () => {
    expect(urgent({ type: 'wrong_code', count: 2 })).toBe(false);
    expect(urgent({ type: 'unlock', method: 'code', codeId: 'c-1' })).toBe(false);
    expect(urgent({ type: 'door', open: true })).toBe(false);
    expect(urgent({ type: 'battery', pct: 10 })).toBe(false);
    expect(urgent({ type: 'jammed' })).toBe(false);
  });
});
