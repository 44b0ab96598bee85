// PROTOCOL.md §1 Dedupe: a (deviceId, seq) seen in the last 24 h with identical payload
// bytes is an exact duplicate, dropped and counted; the same seq with another payload is
// accepted and counted as a seq_conflict (devices reset their counters).
import type { Db } from '../store/db.ts';
import { sha256 } from '../crypto.ts';

export const DEDUPE_WINDOW_MS = 24 * 3600_000;

export type SeqVerdict = 'new' | 'duplicate' | 'seq_conflict';

export class SeqDedupe {
  private readonly insert;
  private readonly lookup;
  private readonly replace;
  private readonly purge;

  constructor(db: Db) {
    // The common case is a new seq: one INSERT that does nothing on a conflict.
    this.insert = db.prepare('INSERT INTO device_seen (device_id, seq, digest, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    this.lookup = db.prepare<[string, number], { digest: Buffer; seen_at: number }>(
      'SELECT digest, seen_at FROM device_seen WHERE device_id = ? AND seq = ?',
    );
    this.replace = db.prepare('UPDATE device_seen SET digest = ?, seen_at = ? WHERE device_id = ? AND seq = ?');
    this.purge = db.prepare('DELETE FROM device_seen WHERE seen_at < ?');
  }

  /** Must run inside the commit that records the event, so a crash cannot split them. */
  check(deviceId: string, seq: number, payload: Uint8Array, now: number): SeqVerdict {
    const digest = sha256(payload).subarray(0, 16);
    if (this.insert.run(deviceId, seq, digest, now).changes === 1) return 'new';
    const seen = this.lookup.get(deviceId, seq)!;
    const recent = now - seen.seen_at < DEDUPE_WINDOW_MS;
    if (recent && digest.equals(seen.digest)) return 'duplicate';
    this.replace.run(digest, now, deviceId, seq);
    return recent ? 'seq_conflict' : 'new';
  }

  purgeOlderThan(cutoff: number): number {
    return this.purge.run(cutoff).changes;
  }
}
