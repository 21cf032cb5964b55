import express, { type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import yazl from 'yazl';
import { sandboxControls, type SandboxControls } from './controls';

/**
 * A stand-in for Batch's GDPR API (docs/seeds/batch-gdpr-api-get-request.txt): requests are created
 * with `request_type` review or remove and an `id: {type, value}`, stay `pending` for a while, then
 * are `done`; a review's data is a zip behind `data_url`; an unknown user is `error: "user not
 * found"`; expired requests are not returned. Errors use Batch's names and codes.
 */
export interface BatchUser {
  type: string;
  value: string;
  /** File name in the review zip → its JSON content (an array counts one record per element). */
  files: Record<string, unknown>;
}

interface GdprRequest {
  id: string;
  requestType: 'review' | 'remove';
  subject: { type: string; value: string };
  createdAt: number;
  resultId: string;
  /** Taken when the request is done, so a review shows the data as it was. */
  files?: Record<string, unknown>;
  found?: boolean;
}

export interface SandboxBatch {
  app: express.Express;
  users: BatchUser[];
  requests: Map<string, GdprRequest>;
  controls: SandboxControls;
}

export const SANDBOX_BATCH_SEED: BatchUser[] = [
  {
    type: 'custom_id',
    value: 'jane.doe',
    files: {
      'profile.json': { custom_id: 'jane.doe', language: 'en', region: 'US' },
      'events.json': [
        { name: 'app_open', at: '2026-11-01T09:00:00Z' },
        { name: 'purchase', at: '2026-11-02T10:00:00Z' },
        { name: 'app_open', at: '2026-11-03T11:00:00Z' },
      ],
    },
  },
];

const ERRORS = {
  AUTHENTICATION_INVALID: [401, 10],
  API_MISUSE: [403, 12],
  ROUTE_NOT_FOUND: [404, 20],
  MISSING_PARAMETER: [400, 30],
  MALFORMED_PARAMETER: [400, 31],
  SERVER_ERROR: [500, 1],
  MAINTENANCE_ERROR: [503, 2],
} as const;

function fail(res: Response, name: keyof typeof ERRORS, message: string) {
  const [status, code] = ERRORS[name];
  res.status(status).json({ error: { code, name, message } });
}

/** Batch writes dates in UTC without a zone designator: "2021-01-03T16:52:16.051". */
function batchDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '');
}

export function createSandboxBatch(options: {
  apiKey: string;
  restKey: string;
  pendingMs?: number;
  expireMs?: number;
  users?: BatchUser[];
}): SandboxBatch {
  const pendingMs = options.pendingMs ?? 3000;
  const expireMs = options.expireMs ?? 30 * 86_400_000;
  const users = structuredClone(options.users ?? SANDBOX_BATCH_SEED);
  const requests = new Map<string, GdprRequest>();
  const app = express();
  app.use(express.json());
  app.post('/_sandbox/users', (req, res) => {
    users.push(req.body as BatchUser);
    res.status(201).json(req.body);
  });
  const controls = sandboxControls(app);

  const base = '/1.0/:apiKey/gdpr/request';
  app.use(
    '/1.0/:apiKey',
    controls.intercept((req, res, next) => {
      if (req.params.apiKey !== options.apiKey || req.get('x-authorization') !== options.restKey) {
        return fail(res, 'AUTHENTICATION_INVALID', 'invalid API key or REST key');
      }
      next();
    }),
  );

  const userOf = (subject: GdprRequest['subject']) =>
    users.find((u) => u.type === subject.type && u.value === subject.value);

  /** Pending until its time has come; then done, once: a remove deletes the user then. */
  const current = (request: GdprRequest): 'pending' | 'done' => {
    if (Date.now() - request.createdAt < pendingMs) return 'pending';
    if (request.found === undefined) {
      const user = userOf(request.subject);
      request.found = user !== undefined;
      if (user && request.requestType === 'review') request.files = structuredClone(user.files);
      if (user && request.requestType === 'remove') users.splice(users.indexOf(user), 1);
    }
    return 'done';
  };

  const live = (req: Request): GdprRequest | undefined => {
    const request = requests.get(String(req.params.requestId));
    return request && Date.now() - request.createdAt < expireMs ? request : undefined;
  };

  app.post(base, (req, res) => {
    const body = (req.body ?? {}) as {
      request_type?: unknown;
      id?: { type?: unknown; value?: unknown } | null;
    };
    if (body.request_type === undefined || body.id === undefined) {
      return fail(res, 'MISSING_PARAMETER', 'request_type and id are required');
    }
    if (!['review', 'remove'].includes(String(body.request_type))) {
      return fail(res, 'MALFORMED_PARAMETER', 'request_type must be review or remove');
    }
    if (typeof body.id?.type !== 'string' || typeof body.id.value !== 'string' || !body.id.value) {
      return fail(res, 'MALFORMED_PARAMETER', 'id must be {type, value}');
    }
    const request: GdprRequest = {
      id: randomUUID(),
      requestType: body.request_type as GdprRequest['requestType'],
      subject: { type: body.id.type, value: body.id.value },
      createdAt: Date.now(),
      resultId: randomUUID(),
    };
    requests.set(request.id, request);
    // Batch works on its own: the request is processed when its time comes, polled or not.
    setTimeout(() => current(request), pendingMs + 5).unref();
    res.status(201).json({ token: request.id });
  });

  app.get(`${base}/:requestId`, (req, res) => {
    const request = live(req);
    if (!request) return fail(res, 'ROUTE_NOT_FOUND', 'no such request');
    const status = current(request);
    const view: Record<string, unknown> = {
      request_date: batchDate(request.createdAt),
      status,
      request_type: request.requestType,
      trigger_type: 'api',
      id: request.subject,
    };
    if (status === 'done' && !request.found) view.error = 'user not found';
    if (status === 'done' && request.found && request.requestType === 'review') {
      view.data_url = `${req.protocol}://${req.get('host')}/1.0/${options.apiKey}/gdpr/request/${request.id}/results/${request.resultId}.zip`;
    }
    res.json(view);
  });

  app.get(`${base}/:requestId/results/:resultFile`, (req, res) => {
    const request = live(req);
    if (!request?.files || req.params.resultFile !== `${request.resultId}.zip`) {
      return fail(res, 'ROUTE_NOT_FOUND', 'no such result');
    }
    const zip = new yazl.ZipFile();
    for (const [name, content] of Object.entries(request.files))
      zip.addBuffer(Buffer.from(JSON.stringify(content, null, 2)), name);
    zip.end();
    res.type('application/zip');
    zip.outputStream.pipe(res);
  });

  app.use((_req, res) => fail(res, 'ROUTE_NOT_FOUND', 'no such route'));
  return { app, users, requests, controls };
}
