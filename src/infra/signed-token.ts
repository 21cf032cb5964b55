import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Links that are their own credential (an owner's form, the subject's export): a payload, its
 * expiry, and an HMAC over both, bound to what the link is for so one kind never passes as another.
 */
export type TokenCheck<T> =
  { valid: true; payload: T } | { valid: false; reason: 'malformed' | 'forged' | 'expired' };

/**
 * Secrets newest first: the first signs, every one verifies. A rotation puts the new secret
 * first and keeps the old one until the links it signed have expired, then removes it.
 */
export type SecretList = readonly [string, ...string[]];

const encode = (value: Buffer | string) => Buffer.from(value).toString('base64url');

function signature(purpose: string, body: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`lethe-${purpose}.v1.${body}`).digest();
}

/** `expiresAt`: seconds since the epoch. */
export function signToken(purpose: string, payload: object, expiresAt: number, secrets: SecretList): string {
  const body = encode(JSON.stringify({ ...payload, e: expiresAt }));
  return `${body}.${encode(signature(purpose, body, secrets[0]))}`;
}

export function verifyToken(
  purpose: string,
  token: string,
  secrets: SecretList,
  now: Date,
): TokenCheck<Record<string, unknown> & { e: number }> {
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1] || token.length > 1024)
    return { valid: false, reason: 'malformed' };
  const [body, mac] = parts as [string, string];
  const given = Buffer.from(mac, 'base64url');
  // Every secret is tried, so the time taken does not tell which one signed the link.
  const signed = secrets.reduce((found, secret) => {
    const expected = signature(purpose, body, secret);
    return (given.length === expected.length && timingSafeEqual(given, expected)) || found;
  }, false);
  if (!signed) return { valid: false, reason: 'forged' };
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  if (!payload || typeof payload !== 'object' || typeof (payload as { e?: unknown }).e !== 'number')
    return { valid: false, reason: 'malformed' };
  const checked = payload as Record<string, unknown> & { e: number };
  if (checked.e * 1000 <= now.getTime()) return { valid: false, reason: 'expired' };
  return { valid: true, payload: checked };
}
