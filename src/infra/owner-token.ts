import { randomBytes } from 'node:crypto';
import { PHASES, type Phase } from '../domain';
import { signToken, verifyToken, type SecretList } from './signed-token';

/** What an owner's link lets them do: answer one phase of one integration of one request, until it expires. */
export interface OwnerTokenClaims {
  requestId: string;
  integrationId: string;
  phase: Phase;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export type OwnerTokenCheck =
  { valid: true; claims: OwnerTokenClaims } | { valid: false; reason: 'malformed' | 'forged' | 'expired' };

const PURPOSE = 'owner-token';

export function signOwnerToken(claims: OwnerTokenClaims, secrets: SecretList): string {
  // The nonce makes every link unguessable even for the same request, integration and phase.
  const payload = {
    r: claims.requestId,
    i: claims.integrationId,
    p: claims.phase,
    n: randomBytes(12).toString('base64url'),
  };
  return signToken(PURPOSE, payload, claims.expiresAt, secrets);
}

export function verifyOwnerToken(token: string, secrets: SecretList, now: Date): OwnerTokenCheck {
  const check = verifyToken(PURPOSE, token, secrets, now);
  if (!check.valid) return check;
  const { r, i, p, e } = check.payload;
  if (typeof r !== 'string' || typeof i !== 'string' || !PHASES.includes(p as Phase)) {
    return { valid: false, reason: 'malformed' };
  }
  return { valid: true, claims: { requestId: r, integrationId: i, phase: p as Phase, expiresAt: e } };
}
