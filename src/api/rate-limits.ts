import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

/**
 * Requests per minute: per API key on /v1, per client address on the public routes, and wrong API
 * keys per client address.
 */
export interface RateLimits {
  perKey: number;
  perAddress: number;
  failedKeysPerAddress: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perKey: 600, perAddress: 120, failedKeysPerAddress: 20 };

/** The contract's 429 RATE_LIMITED, with Retry-After in seconds. */
const refuse: Options['handler'] = (req, res, next) => {
  const reset = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
  const seconds = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : 60;
  res.set('Retry-After', String(seconds));
  next(new ApiError('RATE_LIMITED', `too many requests; try again in ${seconds} s`));
};

/** After the API key check: each key has its own budget, whatever address it calls from. */
export function perKeyLimit(limit: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (_req, res) => String(res.locals.client),
    handler: refuse,
  });
}

const byAddress: Options['keyGenerator'] = (req) => ipKeyGenerator(req.ip ?? 'unknown');

/** Owners' links, export links and the codec endpoint carry their own credential: bounded per address. */
export function perAddressLimit(limit: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: byAddress,
    handler: refuse,
  });
}

/**
 * Before the API key check: only answers that refused the key count, so keys cannot be guessed at
 * speed from one address. No RateLimit headers: they would show a second budget on every answer.
 */
export function failedKeyLimit(limit: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: byAddress,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    handler: refuse,
  });
}
