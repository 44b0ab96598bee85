// The ACL of PROTOCOL.md §1: a device of kind K with id D publishes only to
// menwei/K/D/<channel> on its kind's channels, and subscribes only to its own inbound
// channels, never with a wildcard. Admin accounts read menwei/#.
import { DEVICE_CHANNELS, deviceTopic, type DeviceKind } from '../../protocol/topics.ts';

export type Identity =
  | { role: 'device'; id: string; kind: DeviceKind; unit: string | null }
  | { role: 'admin'; id: string };

export function canPublish(who: Identity, topic: string): boolean {
  if (who.role !== 'device') return false;
  const channels: readonly string[] = DEVICE_CHANNELS[who.kind].publishes;
  const prefix = `menwei/${who.kind}/${who.id}/`;
  return topic.startsWith(prefix) && channels.includes(topic.slice(prefix.length));
}

export function canSubscribe(who: Identity, filter: string): boolean {
  if (who.role === 'admin') return filter === 'menwei/#' || (filter.startsWith('menwei/') && !filter.startsWith('$'));
  if (filter.includes('+') || filter.includes('#')) return false;
  const channels: readonly string[] = DEVICE_CHANNELS[who.kind].subscribes;
  return channels.some((channel) => filter === deviceTopic(who.kind, who.id, channel as never));
}
