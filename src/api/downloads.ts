import type { Readable } from 'node:stream';
import type { BlobStore } from '../infra/blob-store';
import type { CallLog } from '../infra/call-log';
import type { SecretList } from '../infra/signed-token';
import { ApiError } from './errors';
import { exportLinkRequest } from './export-link';
import type { RequestService } from './request-service';

/** A file the API hands out: streamed, since an export with owners' uploads or a long error log can be large. */
export interface Download {
  filename: string;
  content: Readable | AsyncIterable<string>;
}

/** What can be downloaded about a request: its export (with an API key, or by the subject's link) and error logs. */
export class RequestDownloads {
  constructor(
    private readonly requests: RequestService,
    private readonly blobs: BlobStore,
    private readonly callLog: CallLog,
    private readonly tokenSecrets: SecretList,
  ) {}

  async export(requestId: string): Promise<Download> {
    const zipped = await this.blobs.open(await this.requests.exportOf(requestId));
    return { filename: `${requestId}-export.zip`, content: zipped };
  }

  /** The subject's download: the signed link is the only credential, until it expires. */
  exportByLink(token: string): Promise<Download> {
    return this.export(exportLinkRequest(token, this.tokenSecrets, new Date()));
  }

  /** An integration's calls, after the error it shows (if it shows one). */
  async errorLog(requestId: string, integrationId: string): Promise<Download> {
    const request = await this.requests.get(requestId);
    const integration = request.integrations.find((i) => i.id === integrationId);
    if (!integration)
      throw new ApiError('ROUTE_NOT_FOUND', `integration "${integrationId}" is not part of this request`);
    const head = { request_id: request.id, integration_id: integration.id, error: integration.error };
    return {
      filename: `${request.id}-${integration.id}-error-log.json`,
      content: this.callLog.document(request.id, integration.id, head),
    };
  }
}
