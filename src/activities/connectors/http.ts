import { createHash } from 'node:crypto';
import axios, { type AxiosInstance, type AxiosRequestConfig, type Method } from 'axios';
import { z } from 'zod';
import { envVariableSchema as envName, type Subject } from '../../domain';
import { connectionOptions, connectorHttp, pathSegment } from './http-calls';
import {
  ConnectorFailure,
  requireSecret,
  type Answer,
  type Connector,
  type ConnectorDefinition,
  type ConnectorRecord,
  type DeletionStep,
  type PageParams,
  type PageProgress,
  type RecordPages,
  type Resumable,
  type SecretSource,
} from './connector';

/**
 * A generic HTTP connector, configured rather than coded: find the subject's records by an
 * identifier, read them at a JSON path, delete them one by one or all at once.
 * Templates: `{{subject.email}}`, `{{subject.phone}}`, `{{record.id}}`…
 */
const call = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    path: z.string().startsWith('/'),
    query: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
  })
  .strict();

export const httpConnectorOptions = z
  .object({
    base_url: z.url(),
    ...connectionOptions,
    auth: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('bearer'), token_env: envName }).strict(),
        z.object({ type: z.literal('basic'), username_env: envName, password_env: envName }).strict(),
        z.object({ type: z.literal('header'), name: z.string().min(1), value_env: envName }).strict(),
      ])
      .optional(),
    find: call
      .extend({
        method: call.shape.method.default('GET'),
        records_path: z.string().default(''),
        /** Page by page (`page` and its size as query parameters), or by a cursor the service returns. */
        pagination: z
          .discriminatedUnion('type', [
            z
              .object({
                type: z.literal('page'),
                param: z.string().default('page'),
                first: z.number().int().min(0).default(1),
                size_param: z.string().default('per_page'),
                size: z.number().int().min(1).max(10_000).default(100),
              })
              .strict(),
            z
              .object({
                type: z.literal('cursor'),
                param: z.string().default('cursor'),
                next_path: z.string(),
              })
              .strict(),
          ])
          .optional(),
      })
      .strict(),
    delete_record: call
      .extend({ method: call.shape.method.default('DELETE') })
      .strict()
      .optional(),
    delete_subject: call
      .extend({ method: call.shape.method.default('DELETE') })
      .strict()
      .optional(),
  })
  .strict();

export type HttpConnectorOptions = z.infer<typeof httpConnectorOptions>;
type Call = z.infer<typeof call>;

const PLACEHOLDER = /\{\{\s*(subject|record)\.([A-Za-z0-9_]+)\s*\}\}/g;

function render(
  template: string,
  values: { subject: Subject; record?: ConnectorRecord },
  encode: boolean,
): string {
  return template.replace(PLACEHOLDER, (_, scope: 'subject' | 'record', field: string) => {
    const source = (scope === 'subject' ? values.subject : values.record) as
      Record<string, unknown> | undefined;
    const value = source?.[field];
    if (typeof value !== 'string' && typeof value !== 'number') {
      const kind = scope === 'subject' ? 'missing_identifier' : 'unknown';
      throw new ConnectorFailure({ kind }, `no ${scope}.${field} to fill the template`);
    }
    return encode ? pathSegment(String(value), `${scope}.${field}`) : String(value);
  });
}

function renderBody(body: unknown, values: { subject: Subject; record?: ConnectorRecord }): unknown {
  if (typeof body === 'string') return render(body, values, false);
  if (Array.isArray(body)) return body.map((item) => renderBody(item, values));
  if (body && typeof body === 'object') {
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, renderBody(v, values)]));
  }
  return body;
}

/** A bound on page loops, against a service that always says there is more. */
const MAX_PAGES = 10_000;

function valueAt(data: unknown, jsonPath: string): unknown {
  return jsonPath
    .split('.')
    .filter(Boolean)
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
      data,
    );
}

function recordsAt(data: unknown, jsonPath: string): ConnectorRecord[] {
  const found = valueAt(data, jsonPath);
  if (!Array.isArray(found)) {
    throw new ConnectorFailure(
      { kind: 'unknown' },
      `the response has no list of records at "${jsonPath || '(root)'}"`,
    );
  }
  return found as ConnectorRecord[];
}

function authHeaders(options: HttpConnectorOptions, secrets: SecretSource): Record<string, string> {
  const { auth } = options;
  if (!auth) return {};
  switch (auth.type) {
    case 'bearer':
      return { Authorization: `Bearer ${requireSecret(secrets, auth.token_env)}` };
    case 'basic': {
      const user = requireSecret(secrets, auth.username_env);
      const password = requireSecret(secrets, auth.password_env);
      return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
    }
    case 'header':
      return { [auth.name]: requireSecret(secrets, auth.value_env) };
  }
}

const DELETION_STEP_KINDS = ['sending', 'failed', 'deleted'] as const;
type DeletionStepKind = (typeof DELETION_STEP_KINDS)[number];

/**
 * Where earlier attempts left a deletion, from each record's last step: the records deleted, and
 * those whose delete was sent without an answer (in doubt). Journals of an older format (plain
 * counts) hold no steps.
 */
function deletionSoFar(earlier: readonly unknown[]): { deleted: Set<string>; inDoubt: string[] } {
  const last = new Map<string, DeletionStepKind>();
  for (const step of earlier) {
    if (typeof step !== 'object' || step === null) continue;
    for (const kind of DELETION_STEP_KINDS)
      if (kind in step) last.set((step as Record<DeletionStepKind, string>)[kind], kind);
  }
  const lastly = (wanted: DeletionStepKind) =>
    [...last].flatMap(([key, kind]) => (kind === wanted ? [key] : []));
  return { deleted: new Set(lastly('deleted')), inDoubt: lastly('sending') };
}

class HttpConnector implements Connector {
  constructor(
    private readonly options: HttpConnectorOptions,
    private readonly http: AxiosInstance,
  ) {}

  private requestFor(
    spec: Call,
    values: { subject: Subject; record?: ConnectorRecord },
    extraParams: Record<string, string | number> = {},
  ): AxiosRequestConfig {
    const params = {
      ...(spec.query &&
        Object.fromEntries(Object.entries(spec.query).map(([k, v]) => [k, render(v, values, false)]))),
      ...extraParams,
    };
    return {
      method: spec.method as Method,
      url: render(spec.path, values, true),
      params: Object.keys(params).length > 0 ? params : undefined,
      data: spec.body === undefined ? undefined : renderBody(spec.body, values),
    };
  }

  private send(
    spec: Call,
    values: { subject: Subject; record?: ConnectorRecord },
    extraParams: Record<string, string | number> = {},
  ) {
    return this.http.request(this.requestFor(spec, values, extraParams));
  }

  async find(subject: Subject, progress?: PageProgress): Promise<Answer<RecordPages>> {
    return { done: true, value: this.pages(subject, progress) };
  }

  /** The subject's records page by page; pages an earlier attempt read come from its notes, not the service. */
  private async *pages(subject: Subject, progress?: PageProgress): RecordPages {
    const { find } = this.options;
    let pages = 0;
    let page: PageParams | null = this.firstPage();
    for await (const earlier of progress?.earlier() ?? []) {
      yield earlier.records;
      page = earlier.next;
      pages++;
    }
    for (; page !== null && pages < MAX_PAGES; pages++) {
      const response = await this.send(find, { subject }, page);
      const found = recordsAt(response.data, find.records_path);
      page = this.pageAfter(page, response.data, found.length);
      await progress?.note({ records: found, next: page });
      yield found;
    }
  }

  private async *records(subject: Subject): AsyncGenerator<ConnectorRecord> {
    for await (const page of this.pages(subject)) yield* page;
  }

  /**
   * Every record, read before the first delete: a service's pages shift as records go. Only a
   * deletion whose access phase did not run (skipped, stopped) needs it.
   */
  private async allRecords(subject: Subject): Promise<ConnectorRecord[]> {
    const all: ConnectorRecord[] = [];
    for await (const record of this.records(subject)) all.push(record);
    return all;
  }

  private firstPage(): PageParams {
    const paging = this.options.find.pagination;
    return paging?.type === 'page' ? { [paging.param]: paging.first, [paging.size_param]: paging.size } : {};
  }

  private pageAfter(page: PageParams, data: unknown, found: number): PageParams | null {
    const paging = this.options.find.pagination;
    if (!paging) return null;
    if (paging.type === 'page') {
      return found < paging.size ? null : { ...page, [paging.param]: Number(page[paging.param]) + 1 };
    }
    const next = valueAt(data, paging.next_path);
    if ((typeof next !== 'string' && typeof next !== 'number') || next === '') return null;
    return { [paging.param]: next };
  }

  async deleteRecords(
    subject: Subject,
    records: AsyncIterable<ConnectorRecord> | undefined,
    progress?: Resumable<DeletionStep>,
  ): Promise<Answer<number>> {
    const spec = this.options.delete_record;
    if (!spec)
      throw new ConnectorFailure({ kind: 'unknown' }, 'this connector has no delete_record call configured');
    // A record is known by the delete call it takes, digested: the journal holds no identifiers.
    const keyOf = (record: ConnectorRecord) =>
      createHash('sha256')
        .update(JSON.stringify(this.requestFor(spec, { subject, record })))
        .digest('base64url');
    const { deleted, inDoubt } = deletionSoFar(progress?.earlier ?? []);
    if (inDoubt.length > 0) await this.settleInDoubt(subject, inDoubt, keyOf, deleted, progress);
    for await (const record of records ?? (await this.allRecords(subject))) {
      const key = keyOf(record);
      if (deleted.has(key)) continue;
      await this.deleteOne(spec, subject, record, key, progress);
      deleted.add(key);
    }
    return { done: true, value: deleted.size };
  }

  /**
   * The last attempt ended with these deletes on their way: the service may have done them. Look
   * before asking again: a delete that succeeded is not resent.
   */
  private async settleInDoubt(
    subject: Subject,
    inDoubt: string[],
    keyOf: (record: ConnectorRecord) => string,
    deleted: Set<string>,
    progress?: Resumable<DeletionStep>,
  ): Promise<void> {
    const stillThere = new Set<string>();
    for await (const record of this.records(subject)) stillThere.add(keyOf(record));
    for (const key of inDoubt.filter((k) => !stillThere.has(k))) {
      deleted.add(key);
      await progress?.note({ deleted: key });
    }
  }

  /** One record's delete, its steps journalled around the call. */
  private async deleteOne(
    spec: Call,
    subject: Subject,
    record: ConnectorRecord,
    key: string,
    progress?: Resumable<DeletionStep>,
  ): Promise<void> {
    await progress?.note({ sending: key });
    try {
      await this.send(spec, { subject, record });
    } catch (error) {
      const status = axios.isAxiosError(error) ? error.response?.status : undefined;
      // Gone already (deleted by someone else, or by a call whose answer was lost): as wanted.
      if (status !== 404) {
        // An answer that refused it: not in doubt, the next attempt sends it without looking first.
        if (status !== undefined) await progress?.note({ failed: key });
        throw error;
      }
    }
    await progress?.note({ deleted: key });
  }

  async deleteSubject(subject: Subject): Promise<Answer<void>> {
    const spec = this.options.delete_subject;
    if (!spec)
      throw new ConnectorFailure({ kind: 'unknown' }, 'this connector has no delete_subject call configured');
    await this.send(spec, { subject });
    return { done: true, value: undefined };
  }
}

export const httpConnector: ConnectorDefinition<HttpConnectorOptions> = {
  optionsSchema: httpConnectorOptions,
  create(options, context) {
    const headers = { Accept: 'application/json', ...authHeaders(options, context.secrets) };
    const http = connectorHttp(options, { headers }, context);
    return new HttpConnector(options, http);
  },
};
