import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { appendPrivate } from './append-private';

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
 * why an integration is in Error. Kept beside the request's blobs, one JSON line per call.
 */
export class FileCallLog {
  constructor(private readonly root: string) {}

  async append(requestId: string, integrationId: string, entries: CallLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await appendPrivate(
      this.fileOf(requestId, integrationId),
      entries.map((e) => `${JSON.stringify(e)}\n`).join(''),
    );
  }

  /**
   * The JSON document `{ ...head, entries: [...] }`, in pieces read as they are sent: a log grows
   * with every attempt of every call, so it is never held whole.
   */
  async *document(requestId: string, integrationId: string, head: object): AsyncGenerator<string> {
    yield `${JSON.stringify(head).slice(0, -1)},"entries":[`;
    let first = true;
    for await (const line of this.lines(requestId, integrationId)) {
      yield first ? line : `,${line}`;
      first = false;
    }
    yield ']}';
  }

  /** Each line is one entry as append wrote it: JSON already. */
  private async *lines(requestId: string, integrationId: string): AsyncGenerator<string> {
    let file: FileHandle;
    try {
      file = await open(this.fileOf(requestId, integrationId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const input = file.createReadStream();
    try {
      for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line) yield line;
    } finally {
      // A download cut short stops the loop: the file is closed either way.
      input.destroy();
    }
  }

  private fileOf(requestId: string, integrationId: string): string {
    if (!SAFE.test(requestId) || !SAFE.test(integrationId))
      throw new Error('not a request or integration id');
    return path.join(this.root, requestId, `calls-${integrationId}.jsonl`);
  }
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
