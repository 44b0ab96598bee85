// Hostile payloads for every device-side topic of PROTOCOL.md §1 (issue 9): random bytes,
// and valid samples with one field replaced by junk, on the topics of the caller's own
// devices (so they pass the ACL and reach validation).
import fc from 'fast-check';
import { DEVICE_SAMPLES } from './samples.ts';
import type { DeviceKind } from '../../protocol/topics.ts';

export type HostilePayload = { kind: DeviceKind; topic: string; payload: Buffer };

/** `own` names the device of each kind that publishes. */
export function hostilePayloads(own: Partial<Record<DeviceKind, string>>): fc.Arbitrary<HostilePayload> {
  const topics = DEVICE_SAMPLES
    .filter((s) => !s.topic.endsWith('/codes') && !s.topic.endsWith('/card'))
    .flatMap((s) => {
      const [, kind, , channel] = s.topic.split('/') as [string, DeviceKind, string, string];
      const id = own[kind];
      return id ? [{ kind, topic: `menwei/${kind}/${id}/${channel}`, sample: s.payload }] : [];
    });
  const junk = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 }), fc.object({ maxDepth: 2 }));
  const mutated = fc.record({ t: fc.constantFrom(...topics), field: fc.nat(), value: junk }).map(({ t, field, value }) => {
    const keys = Object.keys(t.sample);
    return { kind: t.kind, topic: t.topic, payload: Buffer.from(JSON.stringify({ ...t.sample, [keys[field % keys.length]!]: value })) };
  });
  const raw = fc.record({ t: fc.constantFrom(...topics), bytes: fc.uint8Array({ maxLength: 2048 }) })
    .map(({ t, bytes }) => ({ kind: t.kind, topic: t.topic, payload: Buffer.from(bytes) }));
  return fc.oneof(mutated, raw);
}
