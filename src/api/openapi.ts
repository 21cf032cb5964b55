import { z } from 'zod';
import { integrationIdSchema } from '../domain';
import { payloadsSchema } from './codec';
import { API_ERRORS, type ApiErrorName } from './errors';
import {
  actionBodySchema,
  actionSchema,
  createRequestSchema,
  idempotencyKeySchema,
  listQuerySchema,
  OWNER_UPLOAD_LIMITS,
  ownerAnswerSchema,
  ownerFormAnswerSchema,
  requestIdSchema,
  selectionSchema,
} from './schemas';

/**
 * `GET /openapi.json`: the HTTP API described from the zod schemas its routes validate with, so
 * the description cannot drift from what is checked. The contract (docs/contract.md) stays the
 * authority on words and states; this is its machine-readable index of routes, inputs and errors.
 */

type Method = 'get' | 'post';
type Credential = 'apiKey' | 'link' | 'none';

interface Success {
  status: number;
  description: string;
  /** What the answer is sent as; JSON unless said. */
  type?: 'application/json' | 'application/zip' | 'text/html' | 'text/plain';
}

interface RouteDoc {
  method: Method;
  /** As express writes it: `/v1/requests/:id`. */
  path: string;
  summary: string;
  credential: Credential;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  headers?: Record<string, z.ZodType>;
  /** JSON body, or several types of body (the owner's form). */
  body?: Partial<
    Record<'application/json' | 'multipart/form-data' | 'application/x-www-form-urlencoded', object>
  >;
  success: Success;
  errors: ApiErrorName[];
  /** Statuses beyond the error table's (HTTP says more, e.g. 410 for an expired link). */
  alsoHttp?: Record<number, string>;
}

/** A schema as OpenAPI 3.1 takes it: JSON Schema 2020-12, what the route accepts (before defaults). */
const schemaOf = (schema: z.ZodType): Record<string, unknown> => {
  const converted: Record<string, unknown> = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  delete converted.$schema;
  return converted;
};

const REQUEST_ID = { id: requestIdSchema };
const INTEGRATION = { ...REQUEST_ID, iid: integrationIdSchema };
/** Every /v1 call: a key, then what its caller may get wrong, then Temporal's availability. */
const V1_ERRORS: ApiErrorName[] = [
  'AUTHENTICATION_INVALID',
  'RATE_LIMITED',
  'SERVER_ERROR',
  'MAINTENANCE_ERROR',
];
const JSON_BODY_ERRORS: ApiErrorName[] = ['MISSING_PARAMETER', 'MALFORMED_PARAMETER'];
const LINK_ERRORS: ApiErrorName[] = ['API_MISUSE', 'RATE_LIMITED', 'SERVER_ERROR', 'MAINTENANCE_ERROR'];
const json = (schema: z.ZodType) => ({ 'application/json': schemaOf(schema) });

const formAnswer = {
  type: 'object',
  properties: {
    ...(schemaOf(ownerFormAnswerSchema).properties as object),
    files: {
      type: 'array',
      items: { type: 'string', format: 'binary' },
      maxItems: OWNER_UPLOAD_LIMITS.files,
      description: `at most ${OWNER_UPLOAD_LIMITS.files} files of ${OWNER_UPLOAD_LIMITS.bytesPerFile} bytes each`,
    },
  },
  required: ['answer'],
};

export const ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/requests',
    summary: 'Create a request',
    credential: 'apiKey',
    headers: { 'Idempotency-Key': idempotencyKeySchema },
    body: json(createRequestSchema),
    success: { status: 201, description: 'The request (and Idempotent-Replayed: true for a retry)' },
    errors: [...V1_ERRORS, ...JSON_BODY_ERRORS, 'INVALID_STATE'],
    alsoHttp: { 415: 'The body is not sent as application/json (MALFORMED_PARAMETER)' },
  },
  {
    method: 'get',
    path: '/v1/requests',
    summary: 'List requests, a page at a time',
    credential: 'apiKey',
    query: listQuerySchema,
    success: { status: 200, description: '{ requests, next_page_token }' },
    errors: [...V1_ERRORS, 'MALFORMED_PARAMETER'],
  },
  {
    method: 'get',
    path: '/v1/requests/:id',
    summary: 'A request, with each integration’s phases',
    credential: 'apiKey',
    params: REQUEST_ID,
    success: { status: 200, description: 'The request' },
    errors: [...V1_ERRORS, 'REQUEST_NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/v1/requests/:id/selection',
    summary: 'What to send (access types) or delete (deletion)',
    credential: 'apiKey',
    params: REQUEST_ID,
    body: json(selectionSchema),
    success: { status: 200, description: 'The request, once the selection is recorded' },
    errors: [...V1_ERRORS, ...JSON_BODY_ERRORS, 'REQUEST_NOT_FOUND', 'INVALID_STATE', 'ROUTE_NOT_FOUND'],
    alsoHttp: { 415: 'The body is not sent as application/json (MALFORMED_PARAMETER)' },
  },
  {
    method: 'post',
    path: '/v1/requests/:id/integrations/:iid/:action',
    summary: 'Start, stop, skip or retry one integration',
    credential: 'apiKey',
    params: { ...INTEGRATION, action: actionSchema },
    body: json(actionBodySchema),
    success: { status: 200, description: 'The request' },
    errors: [...V1_ERRORS, 'MALFORMED_PARAMETER', 'REQUEST_NOT_FOUND', 'ROUTE_NOT_FOUND', 'INVALID_STATE'],
    alsoHttp: { 415: 'The body is not sent as application/json (MALFORMED_PARAMETER)' },
  },
  {
    method: 'get',
    path: '/v1/requests/:id/integrations/:iid/error-log',
    summary: 'An integration’s calls and its error (a JSON download)',
    credential: 'apiKey',
    params: INTEGRATION,
    success: { status: 200, description: '{ request_id, integration_id, error, entries }' },
    errors: [...V1_ERRORS, 'MALFORMED_PARAMETER', 'REQUEST_NOT_FOUND', 'ROUTE_NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/v1/requests/:id/export',
    summary: 'The package sent to the subject',
    credential: 'apiKey',
    params: REQUEST_ID,
    success: { status: 200, description: 'A zip', type: 'application/zip' },
    errors: [...V1_ERRORS, 'REQUEST_NOT_FOUND', 'INVALID_STATE'],
  },
  {
    method: 'get',
    path: '/exports/:token',
    summary: 'The subject’s download (the request’s data_url): the signed link is the credential',
    credential: 'link',
    params: { token: z.string() },
    success: { status: 200, description: 'A zip', type: 'application/zip' },
    errors: [...LINK_ERRORS, 'REQUEST_NOT_FOUND', 'INVALID_STATE'],
    alsoHttp: { 410: 'The link has expired (API_MISUSE)' },
  },
  {
    method: 'get',
    path: '/owner/:token',
    summary: 'A system owner’s task: an HTML form for a browser, JSON otherwise',
    credential: 'link',
    params: { token: z.string() },
    success: { status: 200, description: 'The form, or { request, integration, phase, status }' },
    errors: [...LINK_ERRORS, 'REQUEST_NOT_FOUND', 'INVALID_STATE'],
    alsoHttp: { 410: 'The link has expired, or was replaced by a newer one (API_MISUSE)' },
  },
  {
    method: 'post',
    path: '/owner/:token',
    summary:
      'A system owner’s answer: files or "no data" (access), deleted, no_data or not_deleted (deletion)',
    credential: 'link',
    params: { token: z.string() },
    body: {
      'application/json': schemaOf(ownerAnswerSchema),
      'multipart/form-data': formAnswer,
      'application/x-www-form-urlencoded': schemaOf(ownerFormAnswerSchema),
    },
    success: { status: 200, description: 'A page, or { received: true, status }' },
    errors: [...LINK_ERRORS, ...JSON_BODY_ERRORS, 'REQUEST_NOT_FOUND', 'INVALID_STATE'],
    alsoHttp: {
      410: 'The link has expired, or was replaced by a newer one (API_MISUSE)',
      413: 'Too many or too large files, or a JSON answer beyond its size (MALFORMED_PARAMETER)',
    },
  },
  ...(['encode', 'decode'] as const).flatMap((direction): RouteDoc[] => [
    {
      method: 'post',
      path: `/codec/${direction}`,
      summary: `The Temporal Web UI’s codec endpoint: ${direction} payloads (with an API key)`,
      credential: 'apiKey',
      body: json(payloadsSchema),
      success: { status: 200, description: '{ payloads }' },
      errors: ['AUTHENTICATION_INVALID', 'RATE_LIMITED', ...JSON_BODY_ERRORS, 'SERVER_ERROR'],
    },
    {
      method: 'post',
      path: `/codec/:token/${direction}`,
      summary: `The same, for the Web UI, which cannot send a header: a codec secret as the path’s token`,
      credential: 'link',
      params: { token: z.string() },
      body: json(payloadsSchema),
      success: { status: 200, description: '{ payloads }' },
      errors: ['AUTHENTICATION_INVALID', 'RATE_LIMITED', ...JSON_BODY_ERRORS, 'SERVER_ERROR'],
    },
  ]),
  {
    method: 'get',
    path: '/healthz',
    summary: 'Whether the API process lives',
    credential: 'none',
    success: { status: 200, description: '{ status: "ok" }' },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Whether Temporal answers (503 { status: "temporal unreachable" } otherwise)',
    credential: 'none',
    success: { status: 200, description: '{ status: "ready" }' },
    errors: [],
    alsoHttp: { 503: 'Temporal does not answer' },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics: requests by state, API latencies (no identifiers)',
    credential: 'none',
    success: { status: 200, description: 'Prometheus text format', type: 'text/plain' },
    errors: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    credential: 'none',
    success: { status: 200, description: 'OpenAPI 3.1' },
    errors: [],
  },
];

const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'name', 'message'],
      properties: {
        code: { type: 'integer', enum: Object.values(API_ERRORS).map((e) => e.code) },
        name: { type: 'string', enum: Object.keys(API_ERRORS) },
        message: { type: 'string' },
      },
    },
  },
};

/** The errors one status stands for on a route, by name and code (the table of contract section 5). */
function errorResponses(route: RouteDoc): Record<string, object> {
  const byStatus = new Map<number, string[]>();
  for (const name of route.errors) {
    const { http, code } = API_ERRORS[name];
    byStatus.set(http, [...(byStatus.get(http) ?? []), `${name} (${code})`]);
  }
  const content = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  return Object.fromEntries([
    ...[...byStatus].map(([status, names]) => [String(status), { description: names.join(', '), content }]),
    ...Object.entries(route.alsoHttp ?? {}).map(([status, description]) => [
      status,
      { description, content },
    ]),
  ]);
}

function parameters(route: RouteDoc): object[] {
  const inPath = Object.entries(route.params ?? {}).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: schemaOf(schema),
  }));
  const inQuery = Object.entries(route.query?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: schemaOf(schema as z.ZodType),
  }));
  const inHeaders = Object.entries(route.headers ?? {}).map(([name, schema]) => ({
    name,
    in: 'header',
    required: false,
    schema: schemaOf(schema),
  }));
  return [...inPath, ...inQuery, ...inHeaders];
}

const SECURITY: Record<Credential, object[]> = {
  apiKey: [{ apiKey: [] }],
  // The link's signed token, or the codec secret, in the path is the credential.
  link: [],
  none: [],
};

/** `/v1/requests/:id` → `/v1/requests/{id}`. */
export const openApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z_]+)/g, '{$1}');

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of ROUTES) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      security: SECURITY[route.credential],
      parameters: parameters(route),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: Object.fromEntries(
                Object.entries(route.body).map(([type, schema]) => [type, { schema }]),
              ),
            },
          }
        : {}),
      responses: {
        [String(route.success.status)]: {
          description: route.success.description,
          content: { [route.success.type ?? 'application/json']: {} },
        },
        ...errorResponses(route),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Lethe',
      version: '1',
      description: 'Privacy request (DSAR) orchestrator. Words, states and rules: docs/contract.md.',
    },
    paths,
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-Authorization' } },
      schemas: { Error: errorBody },
    },
  };
}
