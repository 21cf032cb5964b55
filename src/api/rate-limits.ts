import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

/** Requests per minute: per API key on /v1, per client address on the public routes. */
export interface RateLimits {
  perKey: number;
  perAddress: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perKey: 600, perAddress: 120 };

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

/** Owners' links, export links and the codec endpoint carry their own credential: bounded per address. */
export function perAddressLimit(limit: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
    handler: refuse,
  });
}
