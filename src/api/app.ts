import express from 'express';
import type { Client } from '@temporalio/client';
import type { LetheConfig } from '../domain';
import type { BlobStore } from '../infra/blob-store';
import type { FileCallLog } from '../infra/call-log';
import type { Logger } from '../infra/logger';
import { requireApiKey } from './auth';
import { ApiError, errorHandler } from './errors';
import { RequestService, type Clock } from './request-service';
import { exportLinker } from './export-link';
import { exportsRouter } from './routes/exports';
import { ownerRouter } from './routes/owner';
import { requestsRouter } from './routes/requests';

export interface ApiDependencies {
  client: Client;
  config: LetheConfig;
  apiKeys: string[];
  tokenSecret: string;
  /** Base of the links Lethe hands out (the export's data_url). */
  publicUrl: string;
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
    exportLink: exportLinker(deps.publicUrl, deps.tokenSecret, deps.config.export_link_expiry),
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));

  app.use(
    '/v1',
    requireApiKey(deps.apiKeys),
    express.json({ limit: '64kb' }),
    requestsRouter(requests, deps.callLog, deps.blobs),
  );
  app.use(exportsRouter({ requests, blobs: deps.blobs, tokenSecret: deps.tokenSecret }));
  app.use(ownerRouter({ requests, blobs: deps.blobs, tokenSecret: deps.tokenSecret, log: deps.log }));

  app.use((req) => {
    throw new ApiError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.log));
  return app;
}
