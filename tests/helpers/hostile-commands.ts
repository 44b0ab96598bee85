// Hostile platform commands (PROTOCOL.md §2.2; issue 9), each with the answer the spec
// gives it: no readable commandId is `gateway/bad_command` (flood-controlled, §2.3);
// otherwise exactly one `reply` event, whose code is fixed where the spec fixes it.
import fc from 'fast-check';
import { COMMAND_SAMPLES } from './samples.ts';
import { COMMAND_ERRORS } from '../../protocol/commands.ts';

export type Expected =
  | { kind: 'bad_command' }
  | { kind: 'reply'; commandId: string; code?: string }; // code absent: any §2.2 answer

export type HostileCommand = { name: string; topic: string; payload: Buffer; expected: Expected };

export const SPEC_CODES = new Set<string>(COMMAND_ERRORS);

const FUTURE = '2099-01-01T00:00:00.000Z';
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const junk = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 }), fc.object({ maxDepth: 2 }), fc.string({ minLength: 1000, maxLength: 5000 }));

/**
 * Hostile commands for `gatewayId`. `id()` hands out fresh commandIds, so each answer can
 * be matched to its case; replays reuse one on purpose.
 */
export function hostileCommands(gatewayId: string, id: () => string): fc.Arbitrary<HostileCommand[]> {
  const topic = (name: string) => `menwei/down/${gatewayId}/${name}`;
  const sample = fc.constantFrom(...COMMAND_SAMPLES);
  const valid = (s: (typeof COMMAND_SAMPLES)[number], commandId: string) => ({ ...s.payload, commandId, expiresAt: FUTURE });
  const one = (c: HostileCommand) => [c];
  return fc.oneof(
    fc.uint8Array({ maxLength: 512 }).map((b) => one({ name: 'random bytes', topic: topic('unit.suspend'), payload: Buffer.from(b), expected: { kind: 'bad_command' } })),
    fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as { commandId?: unknown }).commandId !== 'string')
      .map((v) => one({ name: 'JSON without a commandId', topic: topic('booking.cancel'), payload: json(v), expected: { kind: 'bad_command' } })),
    fc.record({ s: sample, bad: fc.oneof(fc.integer(), fc.constant(''), fc.string({ minLength: 65, maxLength: 200 }), fc.constant(null)) })
      .map(({ s, bad }) => one({ name: 'commandId of the wrong type or length', topic: topic(s.name), payload: json({ ...s.payload, commandId: bad }), expected: { kind: 'bad_command' } })),
    sample.map((s) => one({ name: 'over 64 KiB', topic: topic(s.name), payload: json({ ...valid(s, id()), pad: 'x'.repeat(70_000) }), expected: { kind: 'bad_command' } })),
    fc.record({ s: sample, field: fc.nat(), value: junk }).map(({ s, field, value }) => {
      const commandId = id();
      const keys = Object.keys(s.payload).filter((k) => k !== 'commandId' && k !== 'expiresAt');
      return one({ name: `${s.name} with junk in one field`, topic: topic(s.name), payload: json({ ...valid(s, commandId), [keys[field % keys.length]!]: value }), expected: { kind: 'reply', commandId } });
    }),
    fc.record({ s: sample, v: fc.oneof(fc.integer().filter((n) => n !== 1), fc.string(), fc.constant(null)) }).map(({ s, v }) => {
      const commandId = id();
      return one({ name: 'another version', topic: topic(s.name), payload: json({ ...valid(s, commandId), v }), expected: { kind: 'reply', commandId, code: 'INVALID' } });
    }),
    fc.string({ minLength: 1, maxLength: 40 }).filter((n) => !/[/#+\u0000]/.test(n) && !COMMAND_SAMPLES.some((s) => s.name === n)).map((name) => {
      const commandId = id();
      return one({ name: 'an unknown command', topic: topic(name), payload: json({ v: 1, commandId, expiresAt: FUTURE }), expected: { kind: 'reply', commandId, code: 'UNSUPPORTED' } });
    }),
    sample.map((s) => {
      const commandId = id();
      return one({ name: `${s.name} already expired`, topic: topic(s.name), payload: json({ ...valid(s, commandId), expiresAt: '2020-01-01T00:00:00.000Z' }), expected: { kind: 'reply', commandId, code: 'COMMAND_EXPIRED' } });
    }),
    fc.record({ s: sample, other: sample }).map(({ s, other }) => {
      const commandId = id();
      const first = json(valid(s, commandId));
      const second = json({ ...valid(other, commandId), nonce: commandId });
      return [
        { name: `${s.name}`, topic: topic(s.name), payload: first, expected: { kind: 'reply' as const, commandId } },
        { name: 'its commandId reused for another body', topic: topic(other.name), payload: second, expected: { kind: 'reply' as const, commandId, code: 'COMMAND_ID_REUSED' } },
        { name: 'the first body again', topic: topic(s.name), payload: first, expected: { kind: 'reply' as const, commandId } },
      ];
    }),
  );
}
