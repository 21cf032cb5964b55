import express, { Router, type RequestHandler } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { SecretList } from '../infra/signed-token';
import { z } from 'zod';
import type { Environment } from '../config/environment';
import { keyFingerprint, requireApiKey, sameSecret } from './auth';
import { ApiError } from './errors';
import { validate } from './schemas';

/**
 * The codec server of the Temporal Web UI's remote codec protocol: the UI posts the payloads it
 * shows to `<endpoint>/decode` and gets them back readable. Only for operators: an API key in a
 * header (X-Authorization, or Authorization: Bearer), or a codec secret as the path's token,
 * since the UI cannot send a custom header (`/codec/<one of LETHE_CODEC_SECRET>/decode`).
 */
const base64 = z.base64().max(4 * 1024 * 1024);
export const payloadsSchema = z
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

/**
 * What the Web UI's codec endpoint setting takes, for logs and `make dev`'s banner: the secret is
 * named by where it is set and a fingerprint, never written (logs are read by more people than
 * may decode payloads).
 */
export function codecEndpointHint(
  baseUrl: string,
  environment: Pick<Environment, 'codecSecrets' | 'codecSecretSource'>,
): string {
  return `${baseUrl}/codec/<${environment.codecSecretSource}> (${keyFingerprint(environment.codecSecrets[0])})`;
}

export function codecRouter(deps: {
  codec: PayloadCodec;
  apiKeys: string[];
  /** Any of them opens `/codec/<secret>/…`: a rotation lists the new one first, the old one until the UI has moved. */
  codecSecrets: SecretList;
  /** Origins of the Web UI allowed to call from a browser. */
  allowedOrigins: string[];
}): Router {
  const router = Router();

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
    const given = String(req.params.token);
    // Every secret is compared, so the time taken does not tell which one nearly matched.
    const known = deps.codecSecrets.reduce((found, secret) => sameSecret(given, secret) || found, false);
    if (!known) throw new ApiError('AUTHENTICATION_INVALID', 'the codec endpoint token is not valid');
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
