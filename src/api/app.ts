import express from 'express';
import type { Client } from '@temporalio/client';
import type { LetheConfig } from '../domain';
import type { BlobStore } from '../infra/blob-store';
import type { FileCallLog } from '../infra/call-log';
import type { Logger } from '../infra/logger';
import { requireApiKey } from './auth';
import { ApiError, errorHandler } from './errors';
import { RequestService, type Clock } from './request-service';
import { ownerRouter } from './routes/owner';
import { requestsRouter } from './routes/requests';

export interface ApiDependencies {
  client: Client;
  config: LetheConfig;
  apiKeys: string[];
  tokenSecret: string;
  blobs: BlobStore;
  callLog: FileCallLog;
  log: Logger;
  taskQueue?: string;
  clock?: Clock;
}

export function createApp(deps: ApiDependencies): express.Express {
  const requests = new RequestService(deps.client, deps.config, {
    taskQueue: deps.taskQueue,
    clock: deps.clock,
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));

  app.use(
    '/v1',
    requireApiKey(deps.apiKeys),
    express.json({ limit: '64kb' }),
    requestsRouter(requests, deps.callLog),
  );
  app.use(ownerRouter({ requests, blobs: deps.blobs, tokenSecret: deps.tokenSecret }));

  app.use((req) => {
    throw new ApiError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.log));
  return app;
}
