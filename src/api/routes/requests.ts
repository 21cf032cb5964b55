import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { integrationIdSchema } from '../../domain';
import { ApiError } from '../errors';
import type { BlobStore } from '../../infra/blob-store';
import type { CallLog } from '../../infra/call-log';
import type { RequestService } from '../request-service';
import { sendExport } from './exports';
import {
  actionBodySchema,
  actionSchema,
  createRequestSchema,
  listQuerySchema,
  REQUEST_ID_PATTERN,
  selectionSchema,
  validate,
} from '../schemas';

function requestId(raw: string): string {
  if (!REQUEST_ID_PATTERN.test(raw)) throw new ApiError('REQUEST_NOT_FOUND', 'no request with this id');
  return raw;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function requestsRouter(requests: RequestService, callLog: CallLog, blobs: BlobStore): Router {
  const router = Router();

  router.post('/requests', async (req, res) => {
    const idempotencyKey = req.get('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ApiError('MALFORMED_PARAMETER', 'Idempotency-Key: 1 to 255 printable ASCII characters');
    }
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
    const request = await requests.get(id);
    const integration = request.integrations.find((i) => i.id === integrationId);
    if (!integration)
      throw new ApiError('ROUTE_NOT_FOUND', `integration "${integrationId}" is not part of this request`);
    const head = { request_id: request.id, integration_id: integration.id, error: integration.error };
    res.attachment(`${request.id}-${integration.id}-error-log.json`);
    res.type('application/json');
    await pipeline(Readable.from(callLog.document(request.id, integration.id, head)), res);
  });

  router.get('/requests/:id/export', async (req, res) => {
    const id = requestId(req.params.id);
    await sendExport(res, id, await blobs.open(await requests.exportOf(id)));
  });

  return router;
}
