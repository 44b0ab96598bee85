// Units (房源, CHECKIN.md Objects): provisioned by `menwei unit add`, suspended and resumed
// by the platform (PROTOCOL.md §2.2).
import type { Db } from './db.ts';

export type Unit = {
  code: string;
  address: string;
  operator: string | null;
  officer: string | null;
  licensed: boolean;
  licenceUntil: string | null;
  suspended: boolean;
  suspendReason: string | null;
  suspendedUntil: number | null;
};

type Row = {
  code: string; address: string; operator: string | null; officer: string | null; licensed: number;
  licence_until: string | null; suspended: number; suspend_reason: string | null; suspended_until: number | null;
};

const toUnit = (r: Row): Unit => ({
  code: r.code, address: r.address, operator: r.operator, officer: r.officer, licensed: r.licensed !== 0,
  licenceUntil: r.licence_until, suspended: r.suspended !== 0, suspendReason: r.suspend_reason, suspendedUntil: r.suspended_until,
});

export type NewUnit = { code: string; address: string; operator?: string; officer?: string; licensed: boolean; licenceUntil?: string };

export class UnitStore {
  private readonly byCode;

  constructor(private readonly db: Db) {
    this.byCode = db.prepare<[string], Row>('SELECT * FROM units WHERE code = ?');
  }

  find(code: string): Unit | undefined {
    const row = this.byCode.get(code);
    return row && toUnit(row);
  }

  list(): Unit[] {
    return this.db.prepare<[], Row>('SELECT * FROM units ORDER BY code').all().map(toUnit);
  }

  add(unit: NewUnit, now: number): void {
    this.db.prepare(
      'INSERT INTO units (code, address, operator, officer, licensed, licence_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(unit.code, unit.address, unit.operator ?? null, unit.officer ?? null, unit.licensed ? 1 : 0, unit.licenceUntil ?? null, now);
  }

  suspend(code: string, reason: string, until: number | null): boolean {
    return this.db.prepare('UPDATE units SET suspended = 1, suspend_reason = ?, suspended_until = ? WHERE code = ?')
      .run(reason, until, code).changes > 0;
  }

  resume(code: string): boolean {
    return this.db.prepare('UPDATE units SET suspended = 0, suspend_reason = NULL, suspended_until = NULL WHERE code = ?')
      .run(code).changes > 0;
  }

  /** Units whose `until` has passed (PROTOCOL.md §2.2: `until` resumes it automatically). */
  dueForResume(now: number): string[] {
    return this.db.prepare<[number], { code: string }>('SELECT code FROM units WHERE suspended = 1 AND suspended_until <= ?')
      .all(now).map((r) => r.code);
  }
}
