// Which queued work commits ahead of the rest (ARCHITECTURE.md invariant 4, issue 8): an
// urgent message, such as a smoke alarm, and whatever its source (a device) queued
// before it. A source's work keeps its order, so a device's PUBACKs do too
// [MQTT-4.6.0-2]; work of other sources, and work without a source, waits.

/** Queued work as the urgent lane sees it. */
export type Queued = { urgent?: boolean; source?: string };

/** The urgent work in `queue`, with what each of its sources queued before it, in queue order. */
export function urgentLane<T extends Queued>(queue: readonly T[]): T[] {
  const lastUrgent = new Map<string | undefined, number>();
  queue.forEach((item, i) => {
    if (item.urgent) lastUrgent.set(item.source, i);
  });
  return queue.filter((item, i) => item.urgent || (item.source !== undefined && i < (lastUrgent.get(item.source) ?? -1)));
}
