import { Router, type Response } from 'express';
import type { BlobStore } from '../../infra/blob-store';
import type { SecretList } from '../../infra/signed-token';
import { exportLinkRequest } from '../export-link';
import type { RequestService } from '../request-service';

export function sendExport(res: Response, requestId: string, zipped: Buffer): void {
  res.set('Cache-Control', 'no-store');
  res.attachment(`${requestId}-export.zip`);
  res.type('application/zip').send(zipped);
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
    sendExport(res, requestId, await deps.blobs.get(await deps.requests.exportOf(requestId)));
  });
  return router;
}
