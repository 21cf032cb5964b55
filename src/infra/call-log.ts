import type { BlobStore } from './blob-store';

/** One HTTP call an integration made (or the failure that kept it from making one). */
export interface CallLogEntry {
  time: string;
  attempt: number;
  phase: string;
  method: string | null;
  /** Without secrets or the subject's identifiers. */
  url: string | null;
  status: number | null;
  /** The start of the response, redacted likewise. */
  excerpt: string | null;
  error: string | null;
}

const SAFE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Every call of every attempt, per integration of a request: what an operator downloads to see
 * why an integration is in Error. Kept in the blob store under the request's prefix, one entry per
 * attempt: the API reads what any worker wrote, and retention deletes it with the request.
 */
export class CallLog {
  constructor(private readonly blobs: BlobStore) {}

  async append(requestId: string, integrationId: string, entries: CallLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.blobs.appendEntry(
      requestId,
      seriesOf(integrationId),
      entries.map((e) => JSON.stringify(e)).join('\n'),
    );
  }

  async read(requestId: string, integrationId: string): Promise<CallLogEntry[]> {
    const attempts = await this.blobs.readEntries(requestId, seriesOf(integrationId));
    return attempts.flatMap((text) =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as CallLogEntry),
    );
  }
}

function seriesOf(integrationId: string): string {
  if (!SAFE.test(integrationId)) throw new Error('not a request or integration id');
  return `calls.${integrationId}`;
}

const EXCERPT_CHARS = 500;

/** Replaces every occurrence of the given values (secrets, identifiers) in a text. */
export function redact(text: string, values: string[]): string {
  return values
    .filter((v) => v.length >= 3)
    .sort((a, b) => b.length - a.length)
    .reduce((out, value) => {
      // As written, as in a path, as in a query string (axios writes spaces as "+").
      const forms = [value, encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+')];
      return forms.reduce((redacted, form) => redacted.split(form).join('[redacted]'), out);
    }, text);
}

export function excerptOf(body: unknown, values: string[]): string | null {
  if (body === undefined || body === null || body === '') return null;
  // Binary answers (a zip of the subject's data) are not excerpted.
  if (Buffer.isBuffer(body) || body instanceof ArrayBuffer) return `[binary, ${body.byteLength} bytes]`;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return redact(text, values).slice(0, EXCERPT_CHARS);
}
