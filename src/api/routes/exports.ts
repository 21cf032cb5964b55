import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import type { BlobStore } from '../../infra/blob-store';
import type { SecretList } from '../../infra/signed-token';
import { exportLinkRequest } from '../export-link';
import type { RequestService } from '../request-service';

/** Streamed: an export with the owners' uploads can be large, and many can be downloaded at once. */
export async function sendExport(res: Response, requestId: string, zipped: Readable): Promise<void> {
  res.set('Cache-Control', 'no-store');
  res.attachment(`${requestId}-export.zip`);
  res.type('application/zip');
  await pipeline(zipped, res);
}

/** The subject's download: the signed link is the only credential, until it expires. */
export function exportsRouter(deps: {
  requests: RequestService;
  blobs: BlobStore;
  tokenSecrets: SecretList;
}): Router {
  const router = Router();
  router.get('/exports/:token', async (req, res) => {
    const requestId = exportLinkRequest(req.params.token, deps.tokenSecrets, new Date());
    await sendExport(res, requestId, await deps.blobs.open(await deps.requests.exportOf(requestId)));
  });
  return router;
}
