import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** A short, non-secret name for a key: recorded as who did what, and scopes idempotency keys. */
export function keyFingerprint(key: string): string {
  return `key:${digest(key).toString('hex').slice(0, 8)}`;
}

/** `X-Authorization: <api key>`. Keys are compared as digests in constant time. */
export function requireApiKey(apiKeys: string[]): RequestHandler {
  const known = apiKeys.map(digest);
  return (req, res, next) => {
    const given = req.get('x-authorization');
    if (!given) throw new ApiError('AUTHENTICATION_INVALID', 'the X-Authorization header is missing');
    const candidate = digest(given);
    // Every key is compared, so the time taken does not tell which one nearly matched.
    const matched = known.reduce((found, key) => timingSafeEqual(key, candidate) || found, false);
    if (!matched) throw new ApiError('AUTHENTICATION_INVALID', 'the API key is not valid');
    res.locals.client = keyFingerprint(given);
    next();
  };
}
