import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ApiError } from './errors';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** A short, non-secret name for a key: recorded as who did what, and scopes idempotency keys. */
/** Constant-time equality of two secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function keyFingerprint(key: string): string {
  return `key:${digest(key).toString('hex').slice(0, 8)}`;
}

/** `X-Authorization: <api key>` (or, for tools that only send that, `Authorization: Bearer <api key>`). */
function presentedKey(req: Request): string | undefined {
  const bearer = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
  return req.get('x-authorization') ?? bearer;
}

/** Keys are compared as digests in constant time. */
export function requireApiKey(apiKeys: string[]): RequestHandler {
  const known = apiKeys.map(digest);
  return (req, res, next) => {
    const given = presentedKey(req);
    if (!given) throw new ApiError('AUTHENTICATION_INVALID', 'the X-Authorization header is missing');
    const candidate = digest(given);
    // Every key is compared, so the time taken does not tell which one nearly matched.
    const matched = known.reduce((found, key) => timingSafeEqual(key, candidate) || found, false);
    if (!matched) throw new ApiError('AUTHENTICATION_INVALID', 'the API key is not valid');
    res.locals.client = keyFingerprint(given);
    next();
  };
}
