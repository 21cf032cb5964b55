import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PHASES, type Phase } from '../domain';

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

const encode = (value: Buffer | string) => Buffer.from(value).toString('base64url');

function signature(body: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`lethe-owner-token.v1.${body}`).digest();
}

export function signOwnerToken(claims: OwnerTokenClaims, secret: string): string {
  // The nonce makes every link unguessable even for the same request, integration and phase.
  const body = encode(
    JSON.stringify({
      r: claims.requestId,
      i: claims.integrationId,
      p: claims.phase,
      e: claims.expiresAt,
      n: randomBytes(12).toString('base64url'),
    }),
  );
  return `${body}.${encode(signature(body, secret))}`;
}

export function verifyOwnerToken(token: string, secret: string, now: Date): OwnerTokenCheck {
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1] || token.length > 1024)
    return { valid: false, reason: 'malformed' };
  const [body, mac] = parts as [string, string];
  const expected = signature(body, secret);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { valid: false, reason: 'forged' };
  let raw: { r?: unknown; i?: unknown; p?: unknown; e?: unknown };
  try {
    raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  const { r, i, p, e } = raw;
  if (
    typeof r !== 'string' ||
    typeof i !== 'string' ||
    typeof e !== 'number' ||
    !PHASES.includes(p as Phase)
  ) {
    return { valid: false, reason: 'malformed' };
  }
  if (e * 1000 <= now.getTime()) return { valid: false, reason: 'expired' };
  return { valid: true, claims: { requestId: r, integrationId: i, phase: p as Phase, expiresAt: e } };
}
