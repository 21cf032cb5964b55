import axios, { isAxiosError, type AxiosInstance } from 'axios';
import JSZip from 'jszip';
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
} from './connector';
import { instrument } from './http-calls';

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
    timeout: duration.default('30s'),
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

/** A review zip's records: each JSON array counts its elements, any other file counts as one. */
export async function recordsInZip(zipped: ArrayBuffer | Buffer): Promise<ConnectorRecord[]> {
  const zip = await JSZip.loadAsync(zipped);
  const records: ConnectorRecord[] = [];
  for (const file of Object.values(zip.files).filter((f) => !f.dir)) {
    const text = await file.async('string');
    let content: unknown;
    try {
      content = JSON.parse(text);
    } catch {
      content = { file: file.name, text };
    }
    const items = Array.isArray(content) ? content : [content];
    records.push(...items.map((item) => ({ file: file.name, ...(item as ConnectorRecord) })));
  }
  return records;
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
        `the subject has no ${this.options.id.from}`,
      );
    const response = await this.http.post(`/1.0/${encodeURIComponent(this.apiKey)}/gdpr/request`, {
      request_type: requestType,
      id: { type: this.options.id.type ?? this.options.id.from, value },
    });
    const data = response.data as { request_id?: unknown; token?: unknown };
    const job = data.request_id ?? data.token;
    if (typeof job !== 'string' || !job)
      throw new ConnectorFailure({ kind: 'unknown' }, 'Batch returned no request id');
    return { done: false, job };
  }

  find(subject: Subject): Promise<Answer<ConnectorRecord[]>> {
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
  ): Promise<Answer<ConnectorRecord[] | number | undefined> | { done: false; gone: true }> {
    const path = `/1.0/${encodeURIComponent(this.apiKey)}/gdpr/request/${encodeURIComponent(job)}`;
    let view: BatchRequestView;
    try {
      view = (await this.http.get(path)).data as BatchRequestView;
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
    if (view.error === 'user not found') return { done: true, value: purpose === 'find' ? [] : 0 };
    if (view.error) throw new ConnectorFailure({ kind: 'unknown' }, `Batch: ${view.error}`);
    if (purpose === 'delete') return { done: true, value: undefined };
    if (!view.data_url)
      throw new ConnectorFailure({ kind: 'unknown' }, 'Batch finished a review without data_url');
    // The REST key goes only to Batch's own host, whatever host data_url names.
    const sameHost =
      new URL(view.data_url, this.options.base_url).host === new URL(this.options.base_url).host;
    const zipped = await this.http.get(view.data_url, {
      responseType: 'arraybuffer',
      headers: sameHost ? {} : { 'X-Authorization': null },
    });
    return { done: true, value: await recordsInZip(zipped.data as ArrayBuffer) };
  }
}

export const batchConnector: ConnectorDefinition<BatchConnectorOptions> = {
  optionsSchema: batchConnectorOptions,
  create(options, context) {
    const { secrets, signal } = context;
    const http = axios.create({
      baseURL: options.base_url,
      timeout: parseDuration(options.timeout),
      signal,
      headers: {
        'Content-Type': 'application/json',
        'X-Authorization': requireSecret(secrets, options.rest_key_env),
      },
    });
    instrument(http, context);
    return new BatchConnector(options, http, requireSecret(secrets, options.api_key_env));
  },
};
