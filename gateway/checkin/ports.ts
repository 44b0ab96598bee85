// What the check-in feature needs from the locks and staff features, as small interfaces
// so each can be built and tested alone.
import type { Tx } from '../ingest/tx.ts';
import type { IssuedLockCode, IssueRequest } from '../locks/locks-feature.ts';

export type IssuedCode = IssuedLockCode;

export interface LockCodes {
  /** Issues one code per lock, enqueues audit/code_issued, hints the locks after commit. */
  issueCodes(tx: Tx, request: IssueRequest): IssuedLockCode[];
  /** Revokes, enqueues audit/code_revoked, hints the locks after commit; returns how many. */
  revokeCodes(tx: Tx, scope: { stayId: string } | { visitId: string } | { codeId: string } | { unit: string }): number;
  hasRoom(lockId: string): boolean;
  /** PROTOCOL.md §2.2 booking.upsert: a stay's codes follow its new end. */
  retimeStayCodes(tx: Tx, stayId: string, validTo: number): number;
}

export interface StaffDirectory {
  known(staffId: string): boolean;
  /** PROTOCOL.md §4: the staff member whose badge carries these digits. */
  byBadge(digits: string): string | undefined;
}
