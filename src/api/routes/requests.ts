import { Router } from 'express';
import { integrationIdSchema } from '../../domain';
import { ApiError } from '../errors';
import type { RequestDownloads } from '../downloads';
import type { RequestService } from '../request-service';
import { sendDownload } from './exports';
import {
  actionBodySchema,
  actionSchema,
  createRequestSchema,
  idempotencyKeySchema,
  listQuerySchema,
  REQUEST_ID_PATTERN,
  selectionSchema,
  validate,
} from '../schemas';

function requestId(raw: string): string {
  if (!REQUEST_ID_PATTERN.test(raw)) throw new ApiError('REQUEST_NOT_FOUND', 'no request with this id');
  return raw;
}

export function requestsRouter(requests: RequestService, downloads: RequestDownloads): Router {
  const router = Router();

  router.post('/requests', async (req, res) => {
    const idempotencyKey = validate(idempotencyKeySchema, req.get('idempotency-key'), 'Idempotency-Key');
    const body = validate(createRequestSchema, req.body ?? {}, 'body');
    const { request, replayed } = await requests.create(body, {
      fingerprint: res.locals.client,
      idempotencyKey,
    });
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(201).location(`/v1/requests/${request.id}`).json(request);
  });

  router.get('/requests', async (req, res) => {
    res.json(await requests.list(validate(listQuerySchema, req.query, 'query')));
  });

  router.get('/requests/:id', async (req, res) => {
    res.json(await requests.get(requestId(req.params.id)));
  });

  router.post('/requests/:id/selection', async (req, res) => {
    const { integrations } = validate(selectionSchema, req.body ?? {}, 'body');
    res.json(await requests.select(requestId(req.params.id), integrations));
  });

  router.post('/requests/:id/integrations/:iid/:action', async (req, res) => {
    const id = requestId(req.params.id);
    const integrationId = validate(integrationIdSchema, req.params.iid, 'integration id');
    const action = validate(actionSchema, req.params.action, 'action');
    const { actor } = validate(actionBodySchema, req.body ?? {}, 'body');
    res.json(await requests.act(id, integrationId, action, { actor: res.locals.client, by: actor }));
  });

  router.get('/requests/:id/integrations/:iid/error-log', async (req, res) => {
    const id = requestId(req.params.id);
    const integrationId = validate(integrationIdSchema, req.params.iid, 'integration id');
    await sendDownload(res, await downloads.errorLog(id, integrationId), 'application/json');
  });

  router.get('/requests/:id/export', async (req, res) => {
    await sendDownload(res, await downloads.export(requestId(req.params.id)), 'application/zip');
  });

  return router;
}
