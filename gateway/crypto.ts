// Secrets and personal data at rest (PROTOCOL.md §1 Identity, ARCHITECTURE.md
// invariants 7–8). Device secrets are 32 random bytes: a SHA-256 is enough to store them.
// Staff passwords are guessable, so they get scrypt. Personal data and lock code keys are
// sealed with AES-256-GCM under MENWEI_DATA_KEY.
import { createCipheriv, createDecipheriv, hash, randomBytes, randomFillSync, scryptSync, timingSafeEqual } from 'node:crypto';
import { MenweiError } from '../protocol/errors.ts';

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(data: string | Uint8Array): Buffer {
  return hash('sha256', data, 'buffer');
}

const randomPool = Buffer.alloc(4096);
let randomAt = randomPool.length;

/**
 * A uniform number in [0, 1) from the system CSPRNG, read 4 KiB at a time: ulid's own
 * source asks the kernel for one byte per character, 64 µs per event id (issue 8 profile).
 */
export function pooledRandom(): number {
  if (randomAt === randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  return randomPool[randomAt++]! / 256;
}

/** Constant-time: the comparison does not leak how much of a guess was right. */
export function secretMatches(secret: string, storedSha256: Uint8Array): boolean {
  const digest = sha256(secret);
  return digest.length === storedSha256.length && timingSafeEqual(digest, storedSha256);
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, SCRYPT.keylen, SCRYPT);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export function passwordMatches(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(password, Buffer.from(salt, 'base64url'), expected.length, SCRYPT);
  return timingSafeEqual(actual, expected);
}

/** MENWEI_DATA_KEY: 64 hex characters (INTERFACES.md). */
export function parseDataKey(hex: string | undefined): Buffer {
  if (!hex || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new MenweiError('MW_CONFIG_INVALID', 'MENWEI_DATA_KEY must be 64 hex characters');
  }
  return Buffer.from(hex, 'hex');
}

/** AES-256-GCM: 12-byte nonce ‖ 16-byte tag ‖ ciphertext. */
export function seal(key: Uint8Array, plain: Uint8Array | string): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), body]);
}

export function open(key: Uint8Array, sealed: Uint8Array): Buffer {
  const box = Buffer.from(sealed);
  const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(0, 12));
  decipher.setAuthTag(box.subarray(12, 28));
  return Buffer.concat([decipher.update(box.subarray(28)), decipher.final()]);
}
