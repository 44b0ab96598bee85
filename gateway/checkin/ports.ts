// What the check-in feature needs from the locks and staff features, as small interfaces
// so each can be built and tested alone.
import type { Tx } from '../ingest/tx.ts';

export type IssuedCode = { lockId: string; codeId: string; code: string; validFrom: string; validTo: string; uses: number | null };

export type CodeRequest = {
  unit: string;
  lockIds: string[];
  kind: 'stay' | 'once' | 'staff';
  validFrom: number;
  validTo: number;
  uses: number | null;
  stayId?: string;
  visitId?: string;
};

export interface LockCodes {
  /** Issues one code per lock, enqueues audit/code_issued, hints the locks after commit. */
  issueCodes(tx: Tx, request: CodeRequest): IssuedCode[];
  /** Revokes, enqueues audit/code_revoked, hints the locks after commit; returns how many. */
  revokeCodes(tx: Tx, scope: { stayId: string } | { codeId: string } | { unit: string }): number;
  hasRoom(lockId: string): boolean;
  /** PROTOCOL.md §2.2 booking.upsert: a stay's codes follow its new end. */
  retimeStayCodes(tx: Tx, stayId: string, validTo: number): number;
}

export interface StaffDirectory {
  known(staffId: string): boolean;
  /** PROTOCOL.md §4: the staff member whose badge carries these digits. */
  byBadge(digits: string): string | undefined;
}
