// The forwarder's view of the outbox. Upstream PUBACKs are marked delivered inside the
// next group commit instead of a transaction of their own, so they cost no fsync of
// their own. A mark that a crash loses only means the event is sent again: delivery is
// at least once, and consumers dedupe by eventId (ARCHITECTURE.md invariant 3).
import type { GroupCommit } from '../ingest/group-commit.ts';
import type { Outbox } from './outbox.ts';

export function deliveryThroughCommit(outbox: Outbox, commit: GroupCommit): Outbox {
  // Acknowledged upstream, marked at the next commit: a rewind on a reconnect in between
  // must not send them again.
  const marking = new Set<number>();
  return {
    append: (events) => outbox.append(events),
    take: (limit, maxPriority) => outbox.take(limit, maxPriority).filter((event) => !marking.has(event.seq)),
    rewind: () => outbox.rewind(),
    markDelivered: (seqs) => {
      for (const seq of seqs) marking.add(seq);
      void commit.submit(() => outbox.markDelivered(seqs))
        .catch(() => undefined)
        .finally(() => { for (const seq of seqs) marking.delete(seq); });
    },
    purgeDelivered: () => outbox.purgeDelivered(),
    status: () => outbox.status(),
    pendingBytes: () => outbox.pendingBytes(),
  };
}
