import { describe, expect, it } from 'vitest';
import { validateCommand } from '../../../protocol/validate.ts';
import { commandTopic } from '../../../protocol/topics.ts';
import { COMMAND_NAMES } from '../../../protocol/commands.ts';
import { COMMAND_SAMPLES } from '../../helpers/samples.ts';

const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const topic = (name: string) => commandTopic('gw-test', name);

describe('platform commands (PROTOCOL.md §2.2)', () => {
  it('has a sample for every command', () => {
    expect(COMMAND_SAMPLES.map((s) => s.name).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it.each(COMMAND_SAMPLES)('$name accepts a valid payload', ({ name, payload }) => {
    expect(validateCommand(topic(name), json(payload))).toMatchObject({ ok: true, value: { name } });
  });

  it.each(COMMAND_SAMPLES)('$name names a missing field and keeps the commandId for the reply', ({ name, payload }) => {
    for (const field of Object.keys(payload).filter((f) => f !== 'commandId' && f !== 'v')) {
      const { [field]: _dropped, ...rest } = payload;
      const result = validateCommand(topic(name), json(rest));
      if (result.ok) continue; // an optional field
      expect(result).toMatchObject({ ok: false, commandId: 'cmd-1', error: { field } });
    }
  });

  it('cannot read a commandId from a payload without one, so it is a bad command', () => {
    const result = validateCommand(topic('unit.resume'), json({ v: 1, unit: 'U1', expiresAt: '2026-11-30T10:00:00Z' }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.commandId).toBeUndefined();
  });

  it('keeps the commandId of an unknown command so it can be answered UNSUPPORTED', () => {
    const result = validateCommand(topic('lift.call'), json({ v: 1, commandId: 'x-1', expiresAt: '2026-11-30T10:00:00Z' }));
    expect(result).toMatchObject({ ok: false, commandId: 'x-1', name: 'lift.call', error: { code: 'MW_TOPIC_UNKNOWN' } });
  });

  it('refuses code.revoke with both or neither of codeId and unit', () => {
    const base = { v: 1, commandId: 'c', expiresAt: '2026-11-30T10:00:00Z' };
    expect(validateCommand(topic('code.revoke'), json(base)).ok).toBe(false);
    expect(validateCommand(topic('code.revoke'), json({ ...base, codeId: 'c_1', unit: 'U' })).ok).toBe(false);
  });

  it('refuses a booking of more than 10 guests or whose window ends before it starts', () => {
    const sample = COMMAND_SAMPLES.find((s) => s.name === 'booking.upsert')!.payload;
    const guests = Array.from({ length: 11 }, () => ({ name: 'A', idNumber: '11010519491231002X' }));
    expect(validateCommand(topic('booking.upsert'), json({ ...sample, guests }))).toMatchObject({ ok: false, error: { field: 'guests' } });
    expect(validateCommand(topic('booking.upsert'), json({ ...sample, to: sample.from, from: sample.to })))
      .toMatchObject({ ok: false, error: { field: 'to' } });
  });

  it('refuses an oversized or non-JSON command before reading it', () => {
    expect(validateCommand(topic('unit.resume'), Buffer.alloc(70_000, 0x20))).toMatchObject({ ok: false, error: { code: 'MW_MSG_TOO_LARGE' } });
    expect(validateCommand(topic('unit.resume'), Buffer.from('resume!'))).toMatchObject({ ok: false, error: { code: 'MW_MSG_NOT_JSON' } });
  });
});
