import { createHmac } from 'node:crypto';
import express, { Router, type RequestHandler } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { requireApiKey, sameSecret } from './auth';
import { ApiError } from './errors';
import { validate } from './schemas';

/**
 * The codec server of the Temporal Web UI's remote codec protocol: the UI posts the payloads it
 * shows to `<endpoint>/decode` and gets them back readable. Only for operators: an API key in a
 * header (X-Authorization, or Authorization: Bearer), or the endpoint's own path token, since the
 * UI cannot send a custom header.
 */
const base64 = z.base64().max(4 * 1024 * 1024);
const payloadsSchema = z
  .object({
    payloads: z
      .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
      .max(1000),
  })
  .strict();

const toWire = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

const fromWire = (p: z.infer<typeof payloadsSchema>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

/** The path token the Web UI's codec endpoint carries: derived from the token secret, never stored. */
export function codecPathToken(tokenSecret: string): string {
  return createHmac('sha256', tokenSecret).update('lethe-codec-endpoint.v1').digest('base64url');
}

export function codecRouter(deps: {
  codec: PayloadCodec;
  apiKeys: string[];
  tokenSecret: string;
  /** Origins of the Web UI allowed to call from a browser. */
  allowedOrigins: string[];
}): Router {
  const router = Router();
  const pathToken = codecPathToken(deps.tokenSecret);

  const cors: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    if (origin && deps.allowedOrigins.includes(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization, X-Authorization',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  };
  const byPathToken: RequestHandler = (req, _res, next) => {
    if (!sameSecret(String(req.params.token), pathToken))
      throw new ApiError('AUTHENTICATION_INVALID', 'the codec endpoint token is not valid');
    next();
  };
  const handle = (direction: 'encode' | 'decode'): RequestHandler[] => [
    express.json({ limit: '8mb' }),
    async (req, res) => {
      const { payloads } = validate(payloadsSchema, req.body ?? {}, 'body');
      let converted: Payload[];
      try {
        converted = await deps.codec[direction](payloads.map(fromWire));
      } catch {
        throw new ApiError('MALFORMED_PARAMETER', `body.payloads: cannot ${direction} these payloads`);
      }
      res.json({ payloads: converted.map(toWire) });
    },
  ];

  router.use('/codec', cors);
  for (const direction of ['encode', 'decode'] as const) {
    router.post(`/codec/${direction}`, requireApiKey(deps.apiKeys), ...handle(direction));
    router.post(`/codec/:token/${direction}`, byPathToken, ...handle(direction));
  }
  return router;
}
