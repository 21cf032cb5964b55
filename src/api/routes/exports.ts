import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import type { Download, RequestDownloads } from '../downloads';

/** Streamed, never read whole first; an export is personal data, which no cache keeps. */
export async function sendDownload(res: Response, download: Download, type: string): Promise<void> {
  res.set('Cache-Control', 'no-store');
  res.attachment(download.filename);
  res.type(type);
  const { content } = download;
  await pipeline(content instanceof Readable ? content : Readable.from(content), res);
}

export function exportsRouter(downloads: RequestDownloads): Router {
  const router = Router();
  router.get('/exports/:token', async (req, res) => {
    await sendDownload(res, await downloads.exportByLink(req.params.token), 'application/zip');
  });
  return router;
}
