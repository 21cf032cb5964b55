import express from 'express';
import helmet from 'helmet';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { LetheConfig } from '../domain';
import type { TrustProxy } from '../config/environment';
import type { BlobStore } from '../infra/blob-store';
import { CallLog } from '../infra/call-log';
import type { Logger } from '../infra/logger';
import type { SecretList } from '../infra/signed-token';
import { requireApiKey } from './auth';
import { createApiMetrics } from '../infra/metrics';
import { codecRouter } from './codec';
import { ApiError, errorHandler } from './errors';
import {
  DEFAULT_RATE_LIMITS,
  failedKeyLimit,
  perAddressLimit,
  perKeyLimit,
  type RateLimits,
} from './rate-limits';
import { RequestService, type Clock } from './request-service';
import { exportLinker } from './export-link';
import { pageTokens } from './page-token';
import { sweptProofOf } from '../infra/proof-store';
import { RequestDownloads } from './downloads';
import { openApiDocument } from './openapi';
import { OwnerAnswers } from './owner-answers';
import { exportsRouter } from './routes/exports';
import { ownerRouter } from './routes/owner';
import { requestsRouter } from './routes/requests';

export interface ApiDependencies {
  client: Client;
  config: LetheConfig;
  apiKeys: string[];
  /** Sign owner and export links (the first signs, all verify). */
  tokenSecrets: SecretList;
  /** Base of the links Lethe hands out (the export's data_url). */
  publicUrl: string;
  blobs: BlobStore;
  log: Logger;
  /** Decodes payloads for the Temporal Web UI (the codec endpoint). */
  codec: PayloadCodec;
  /** Open the Web UI's codec endpoint path, `/codec/<secret>/…`. */
  codecSecrets: SecretList;
  /** Web UI origins allowed to call the codec endpoint from a browser. */
  codecOrigins: string[];
  rateLimits?: RateLimits;
  /** Which proxies' X-Forwarded-For names the client (the per-address limits' key). */
  trustProxy?: TrustProxy;
  taskQueue?: string;
  clock?: Clock;
}

/** Another type of body would be skipped by the JSON parser and answered as missing fields. */
const jsonBodiesOnly: express.RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    throw new ApiError('MALFORMED_PARAMETER', 'Content-Type: the body must be sent as application/json', 415);
  }
  next();
};

/** Request ids are random: safe in logs, unlike the rest of some URLs. */
const REQUEST_ID_IN_PATH = /^\/v1\/requests\/(req_[a-z0-9]+)/;

export function createApp(deps: ApiDependencies): express.Express {
  const requests = new RequestService(deps.client, deps.config, pageTokens(deps.tokenSecrets), {
    taskQueue: deps.taskQueue,
    clock: deps.clock,
    exportLink: exportLinker(deps.publicUrl, deps.tokenSecrets, deps.config.export_link_expiry),
    sweptProof: (id) => sweptProofOf(deps.blobs, id),
  });
  const downloads = new RequestDownloads(requests, deps.blobs, new CallLog(deps.blobs), deps.tokenSecrets);
  const owners = new OwnerAnswers(requests, deps.blobs, deps.tokenSecrets, deps.log);
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', deps.trustProxy ?? false);
  // The owner's page has inline styles and nothing else; everything else is JSON or a zip.
  app.use(
    helmet({
      contentSecurityPolicy: {
        // Not helmet's defaults: those upgrade the owner's form to https, which a plain-http deployment lacks.
        useDefaults: false,
        directives: {
          'default-src': ["'none'"],
          'style-src': ["'unsafe-inline'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          'base-uri': ["'none'"],
        },
      },
    }),
  );

  const metrics = createApiMetrics(() => requests.countByState());
  app.use((req, res, next) => {
    const started = performance.now();
    const end = metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ route, status: res.statusCode });
      // The route's pattern, never the URL: owner and export links carry tokens.
      deps.log.info(
        {
          method: req.method,
          route,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
          requestId: REQUEST_ID_IN_PATH.exec(req.originalUrl)?.[1],
        },
        'api call',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  const description = openApiDocument();
  app.get('/openapi.json', (_req, res) => void res.json(description));
  app.get('/readyz', async (_req, res) => {
    const ready = await requests.temporalReachable();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'temporal unreachable' });
  });
  // No API key: Prometheus scrapes it, and it holds counts by state, route and status only.
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use(['/v1', '/codec'], failedKeyLimit(limits.failedKeysPerAddress));
  app.use(
    '/v1',
    requireApiKey(deps.apiKeys),
    perKeyLimit(limits.perKey),
    jsonBodiesOnly,
    express.json({ limit: '64kb' }),
    requestsRouter(requests, downloads),
  );
  const publicLimit = perAddressLimit(limits.perAddress);
  app.use(['/owner', '/exports', '/codec'], publicLimit);
  app.use(exportsRouter(downloads));
  app.use(ownerRouter({ owners, log: deps.log }));
  app.use(
    codecRouter({
      codec: deps.codec,
      apiKeys: deps.apiKeys,
      codecSecrets: deps.codecSecrets,
      allowedOrigins: deps.codecOrigins,
    }),
  );

  app.use((req) => {
    throw new ApiError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.log));
  return app;
}
