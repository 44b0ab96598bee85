// Personal data at rest (ARCHITECTURE.md invariant 8): sealed with AES-256-GCM under the
// data key, and matched by a keyed hash of the normalised ID number, never by plain text.
import { createHmac } from 'node:crypto';
import { open, seal } from '../crypto.ts';

export class PersonalData {
  private readonly hashKey: Buffer;

  constructor(private readonly dataKey: Buffer) {
    // A key of its own for hashing, so the hash reveals nothing about the sealing key.
    this.hashKey = createHmac('sha256', dataKey).update('menwei/id-hash/v1').digest();
  }

  /** Keyed hash of an ID number, normalised: trimmed, upper-case X (PROTOCOL.md §6). */
  idHash(idNumber: string): string {
    return createHmac('sha256', this.hashKey).update(idNumber.trim().toUpperCase()).digest('hex');
  }

  sealJson(value: unknown): Buffer {
    return seal(this.dataKey, JSON.stringify(value));
  }

  openJson<T>(sealed: Uint8Array): T {
    return JSON.parse(open(this.dataKey, sealed).toString('utf8')) as T;
  }
}
