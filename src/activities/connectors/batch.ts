import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isAxiosError, type AxiosInstance } from 'axios';
import yauzl from 'yauzl';
import { z } from 'zod';
import {
  durationSchema as duration,
  envVariableSchema as envName,
  parseDuration,
  SUBJECT_IDENTIFIERS,
  type Subject,
} from '../../domain';
import {
  ConnectorFailure,
  requireSecret,
  type Answer,
  type Connector,
  type ConnectorDefinition,
  type ConnectorRecord,
  type RecordPages,
} from './connector';

/** A review of a user Batch does not know: no pages. */
async function* noPages(): RecordPages {}
import {
  connectionOptions,
  connectorHttp,
  isSizeExceeded,
  originOf,
  pathSegment,
  tooLarge,
} from './http-calls';

/**
 * Batch's GDPR API (docs/seeds/batch-gdpr-api-get-request.txt). A request is created, then
 * polled until `status: done`; a review's data is a zip behind `data_url`. Batch's error codes
 * arrive as HTTP statuses and go through Lethe's error taxonomy like any other.
 */

export const batchConnectorOptions = z
  .object({
    base_url: z.url().default('https://api.batch.com'),
    /** The app's API key: part of every path. */
    api_key_env: envName,
    /** The company REST key: the X-Authorization header. */
    rest_key_env: envName,
    /** Which subject identifier becomes Batch's `id`, and as which id type. */
    id: z
      .object({ from: z.enum(SUBJECT_IDENTIFIERS).default('custom_id'), type: z.string().min(1).optional() })
      .strict()
      .default({ from: 'custom_id' }),
    // Every poll adds a few events to the integration's history: 15 minutes over 7 days stays far from its limits.
    poll_interval: duration.default('15m'),
    give_up_after: duration.default('7d'),
    ...connectionOptions,
    /** Origins besides base_url's that a review's data_url may name (Batch's key is not sent there). */
    data_origins: z.array(z.url()).default([]),
    /** A review zip is refused beyond these, before and while it is inflated. */
    max_zip_entries: z.number().int().min(1).max(1_000_000).default(10_000),
    max_unzipped_mb: z.number().positive().max(4096).default(64),
  })
  .strict();

export type BatchConnectorOptions = z.infer<typeof batchConnectorOptions>;

interface BatchRequestView {
  status?: string;
  error?: string;
  data_url?: string;
  request_date?: string;
}

/** Batch's dates come without a zone designator and are UTC. */
export function batchDate(text: string): Date {
  return new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`);
}

export interface ZipLimits {
  maxEntries: number;
  maxUnzippedMb: number;
}

const MB = 1024 * 1024;
const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 10_000, maxUnzippedMb: 64 };

function zipRefused(reason: string): ConnectorFailure {
  return new ConnectorFailure({ kind: 'unknown' }, `review zip refused: ${reason}`);
}

/** An entry's bytes, at most `budget` of them: a zip's declared sizes can lie, this count does not. */
async function readCapped(stream: Readable, budget: number, limits: ZipLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of stream) {
    read += (chunk as Buffer).length;
    if (read > budget) {
      stream.destroy();
      throw zipRefused(`it inflates to more than ${limits.maxUnzippedMb} MB uncompressed`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * A review zip's records, one page per file: each JSON array counts its elements, any other file
 * counts as one. The entry count and the total uncompressed size are checked in the central
 * directory before anything is inflated, then counted while inflating, since a zip's declared
 * sizes can lie.
 */
export async function* recordsInZip(
  zipped: Buffer | string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): RecordPages {
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true };
  const zip =
    typeof zipped === 'string'
      ? await yauzl.openPromise(zipped, options)
      : await yauzl.fromBufferPromise(zipped, options);
  try {
    if (zip.entryCount > limits.maxEntries)
      throw zipRefused(`${zip.entryCount} entries, more than ${limits.maxEntries}`);
    const entries: yauzl.Entry[] = [];
    let declared = 0;
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      declared += entry.uncompressedSize;
      if (declared > limits.maxUnzippedMb * MB)
        throw zipRefused(`its entries declare more than ${limits.maxUnzippedMb} MB uncompressed`);
      entries.push(entry);
    }
    let budget = limits.maxUnzippedMb * MB;
    for (const entry of entries) {
      const content = await readCapped(await zip.openReadStreamPromise(entry), budget, limits);
      budget -= content.length;
      const text = content.toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { file: entry.fileName, text };
      }
      const items = Array.isArray(parsed) ? parsed : [parsed];
      yield items.map((item) => ({ file: entry.fileName, ...(item as ConnectorRecord) }));
    }
  } catch (error) {
    // yauzl's own checks (an entry inflating past its declared size, a broken zip) say so plainly.
    if (error instanceof ConnectorFailure) throw error;
    throw zipRefused((error as Error).message);
  } finally {
    zip.close();
  }
}

class BatchConnector implements Connector {
  readonly polling: { everyMs: number; giveUpAfterMs: number };

  constructor(
    private readonly options: BatchConnectorOptions,
    private readonly http: AxiosInstance,
    private readonly apiKey: string,
  ) {
    this.polling = {
      everyMs: parseDuration(options.poll_interval),
      giveUpAfterMs: parseDuration(options.give_up_after),
    };
  }

  private async create(subject: Subject, requestType: 'review' | 'remove'): Promise<Answer<never>> {
    const value = subject[this.options.id.from];
    if (!value)
      throw new ConnectorFailure(
        { kind: 'missing_identifier' },
        `the subject has no ${this.options.id.from}, which this integration needs`,
      );
    const response = await this.http.post(`/1.0/${pathSegment(this.apiKey, 'the API key')}/gdpr/request`, {
      request_type: requestType,
      id: { type: this.options.id.type ?? this.options.id.from, value },
    });
    const data = response.data as { request_id?: unknown; token?: unknown };
    const job = data.request_id ?? data.token;
    if (typeof job !== 'string' || !job)
      throw new ConnectorFailure({ kind: 'unknown' }, 'Batch returned no request id');
    return { done: false, job };
  }

  find(subject: Subject): Promise<Answer<RecordPages>> {
    return this.create(subject, 'review');
  }

  /** Batch removes everything it holds about a user: the records the access phase found do not matter. */
  deleteRecords(subject: Subject): Promise<Answer<number>> {
    return this.create(subject, 'remove');
  }

  deleteSubject(subject: Subject): Promise<Answer<void>> {
    return this.create(subject, 'remove');
  }

  async poll(
    job: string,
    purpose: 'find' | 'delete',
  ): Promise<Answer<RecordPages | number | undefined> | { done: false; gone: true }> {
    const jobPath = `/1.0/${pathSegment(this.apiKey, 'the API key')}/gdpr/request/${pathSegment(job, 'the job id')}`;
    let view: BatchRequestView;
    try {
      view = (await this.http.get(jobPath)).data as BatchRequestView;
    } catch (error) {
      // "Expired requests are not returned by this API": Batch answers ROUTE_NOT_FOUND.
      if (isAxiosError(error) && error.response?.status === 404) return { done: false, gone: true };
      throw error;
    }
    if (view.status === 'pending') return { done: false, job };
    if (view.status !== 'done') {
      throw new ConnectorFailure(
        { kind: 'unknown' },
        `Batch answered an unknown status: ${String(view.status)}`,
      );
    }
    if (view.error === 'user not found') return { done: true, value: purpose === 'find' ? noPages() : 0 };
    if (view.error) throw new ConnectorFailure({ kind: 'unknown' }, `Batch: ${view.error}`);
    if (purpose === 'delete') return { done: true, value: undefined };
    if (!view.data_url)
      throw new ConnectorFailure({ kind: 'unknown' }, 'Batch finished a review without data_url');
    return { done: true, value: this.review(view.data_url) };
  }

  /**
   * Downloads a review's zip to a temporary file, at most max_response_mb of it, and unpacks it
   * from there, one file at a time. The REST key goes only to base_url's origin, scheme and port
   * included; the connector's client refuses any origin the options do not name.
   */
  private async *review(dataUrl: string): RecordPages {
    const { base_url, max_response_mb } = this.options;
    const sameOrigin = originOf(dataUrl, base_url) === originOf(base_url);
    const folder = await mkdtemp(path.join(os.tmpdir(), 'lethe-review-'));
    try {
      const file = path.join(folder, 'review.zip');
      const response = await this.http.get<Readable>(dataUrl, {
        responseType: 'stream',
        headers: sameOrigin ? {} : { 'X-Authorization': null },
      });
      try {
        await pipeline(response.data, createWriteStream(file, { mode: 0o600 }));
      } catch (error) {
        // axios counts a streamed answer too, and stops it at max_response_mb.
        if (isSizeExceeded(error)) throw tooLarge(max_response_mb);
        throw error;
      }
      yield* recordsInZip(file, {
        maxEntries: this.options.max_zip_entries,
        maxUnzippedMb: this.options.max_unzipped_mb,
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }
}

export const batchConnector: ConnectorDefinition<BatchConnectorOptions> = {
  optionsSchema: batchConnectorOptions,
  create(options, context) {
    const headers = {
      'Content-Type': 'application/json',
      'X-Authorization': requireSecret(context.secrets, options.rest_key_env),
    };
    const http = connectorHttp(options, { headers, alsoAllowed: options.data_origins }, context);
    return new BatchConnector(options, http, requireSecret(context.secrets, options.api_key_env));
  },
};
