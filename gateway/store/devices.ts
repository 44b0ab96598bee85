// Provisioned devices and admin accounts (PROTOCOL.md §1 Identity; INTERFACES.md
// `device add`, `admin add`). Secrets are stored as SHA-256 only; a lock's code key is
// sealed with the data key (ARCHITECTURE.md invariant 7).
import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';
import type { DeviceKind } from '../../protocol/topics.ts';
import { newSecret, seal, sha256 } from '../crypto.ts';
import { MenweiError } from '../../protocol/errors.ts';

export type DeviceRecord = {
  id: string;
  kind: DeviceKind;
  unit: string | null;
  secretSha256: Buffer;
  disabled: boolean;
};

export type Provisioned = { id: string; kind: DeviceKind; secret: string; codeKey?: string };

type Row = { id: string; kind: DeviceKind; unit: string | null; secret_sha256: Buffer; disabled: number };

const toRecord = (r: Row): DeviceRecord => ({ id: r.id, kind: r.kind, unit: r.unit, secretSha256: r.secret_sha256, disabled: r.disabled !== 0 });

export class DeviceRegistry {
  private readonly byId;
  private readonly adminById;

  constructor(private readonly db: Db) {
    this.byId = db.prepare<[string], Row>('SELECT id, kind, unit, secret_sha256, disabled FROM devices WHERE id = ?');
    this.adminById = db.prepare<[string], { secret_sha256: Buffer; disabled: number }>(
      'SELECT secret_sha256, disabled FROM admins WHERE id = ?',
    );
  }

  find(id: string): DeviceRecord | undefined {
    const row = this.byId.get(id);
    return row && toRecord(row);
  }

  findAdmin(id: string): { secretSha256: Buffer; disabled: boolean } | undefined {
    const row = this.adminById.get(id);
    return row && { secretSha256: row.secret_sha256, disabled: row.disabled !== 0 };
  }

  /** Makes the secret (and a lock's code key); both are returned to be shown once. */
  add(input: { id: string; kind: DeviceKind; unit?: string }, dataKey: Uint8Array | null, now: number): Provisioned {
    const secret = newSecret();
    const codeKey = input.kind === 'lock' ? randomBytes(32) : undefined;
    if (codeKey && !dataKey) throw new MenweiError('MW_CONFIG_INVALID', 'a lock needs MENWEI_DATA_KEY to seal its code key');
    this.db.prepare(
      'INSERT INTO devices (id, kind, unit, secret_sha256, code_key, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(input.id, input.kind, input.unit ?? null, sha256(secret), codeKey ? seal(dataKey!, codeKey) : null, now);
    return { id: input.id, kind: input.kind, secret, ...(codeKey ? { codeKey: codeKey.toString('hex') } : {}) };
  }

  addAdmin(id: string, now: number): { id: string; secret: string } {
    const secret = newSecret();
    this.db.prepare('INSERT INTO admins (id, secret_sha256, created_at) VALUES (?, ?, ?)').run(id, sha256(secret), now);
    return { id, secret };
  }

  /** Returns false when there is no such device. */
  disable(id: string): boolean {
    return this.db.prepare('UPDATE devices SET disabled = 1 WHERE id = ?').run(id).changes > 0;
  }

  assignUnit(id: string, unit: string): boolean {
    return this.db.prepare('UPDATE devices SET unit = ? WHERE id = ?').run(unit, id).changes > 0;
  }

  enabled(): Array<{ id: string; kind: DeviceKind; unit: string | null }> {
    return this.db.prepare<[], { id: string; kind: DeviceKind; unit: string | null }>('SELECT id, kind, unit FROM devices WHERE disabled = 0').all();
  }

  disabledIds(): string[] {
    return this.db.prepare<[], { id: string }>('SELECT id FROM devices WHERE disabled = 1').all().map((r) => r.id);
  }
}
