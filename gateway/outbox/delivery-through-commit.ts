// The forwarder's view of the outbox. Upstream PUBACKs are marked delivered inside the
// next group commit instead of a transaction of their own, so they cost no fsync of
// their own. A mark that a crash loses only means the event is sent again: delivery is
// at least once, and consumers dedupe by eventId (ARCHITECTURE.md invariant 3).
import type { GroupCommit } from '../ingest/group-commit.ts';
import type { Outbox } from './outbox.ts';

export function deliveryThroughCommit(outbox: Outbox, commit: GroupCommit): Outbox {
  return {
    append: (events) => outbox.append(events),
    take: (limit, maxPriority) => outbox.take(limit, maxPriority),
    rewind: () => outbox.rewind(),
    markDelivered: (seqs) => void commit.submit(() => outbox.markDelivered(seqs)).catch(() => undefined),
    purgeDelivered: () => outbox.purgeDelivered(),
    status: () => outbox.status(),
    pendingBytes: () => outbox.pendingBytes(),
  };
}
