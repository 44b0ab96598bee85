// Device and admin authentication for the building broker (PROTOCOL.md §1 Identity and
// Refusals). clientId = username = device id; the password is the device secret,
// compared in constant time against its stored SHA-256.
import type { DeviceRegistry } from '../store/devices.ts';
import type { AuthThrottle } from './throttle.ts';
import type { Identity } from './acl.ts';
import { secretMatches } from '../crypto.ts';
import { isLoopback } from '../net.ts';

export type AuthResult =
  | { ok: true; identity: Identity }
  | { ok: false; returnCode: 2 | 4 | 5; reason: 'throttled' | 'client_id_mismatch' | 'unknown' | 'bad_secret' | 'disabled' | 'admin_needs_tls' };

export type AuthRequest = {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  source: string;
  secure: boolean;
};


export class Authenticator {
  constructor(private readonly registry: DeviceRegistry, private readonly throttle: AuthThrottle) {}

  authenticate(req: AuthRequest): AuthResult {
    // A throttled address is refused without checking, so guessing costs nothing to us.
    if (this.throttle.isBlocked(req.source)) return { ok: false, returnCode: 5, reason: 'throttled' };
    const result = this.check(req);
    if (!result.ok && result.returnCode === 4) this.throttle.recordFailure(req.source);
    return result;
  }

  private check(req: AuthRequest): AuthResult {
    if (req.username === undefined || req.clientId !== req.username) return { ok: false, returnCode: 2, reason: 'client_id_mismatch' };
    const secret = req.password?.toString('utf8') ?? '';
    const device = this.registry.find(req.username);
    if (device) {
      if (!secretMatches(secret, device.secretSha256)) return { ok: false, returnCode: 4, reason: 'bad_secret' };
      if (device.disabled) return { ok: false, returnCode: 4, reason: 'disabled' };
      return { ok: true, identity: { role: 'device', id: device.id, kind: device.kind, unit: device.unit } };
    }
    const admin = this.registry.findAdmin(req.username);
    if (!admin) return { ok: false, returnCode: 4, reason: 'unknown' };
    if (!secretMatches(secret, admin.secretSha256)) return { ok: false, returnCode: 4, reason: 'bad_secret' };
    if (admin.disabled) return { ok: false, returnCode: 4, reason: 'disabled' };
    // INTERFACES.md `admin add`: admin accounts are TLS-only off loopback.
    if (!req.secure && !isLoopback(req.source)) return { ok: false, returnCode: 5, reason: 'admin_needs_tls' };
    return { ok: true, identity: { role: 'admin', id: req.username } };
  }
}
