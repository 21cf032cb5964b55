import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ErrorRequestHandler, Request } from 'express';
import type { z } from 'zod';
import type { Logger } from '../infra/logger';
import { REFUSAL_TYPES } from '../workflows/definitions';

/** The error names and codes of contract section 5 (they follow the Batch GDPR API's). */
export const API_ERRORS = {
  AUTHENTICATION_INVALID: { http: 401, code: 10 },
  API_MISUSE: { http: 403, code: 12 },
  ROUTE_NOT_FOUND: { http: 404, code: 20 },
  REQUEST_NOT_FOUND: { http: 404, code: 21 },
  MISSING_PARAMETER: { http: 400, code: 30 },
  MALFORMED_PARAMETER: { http: 400, code: 31 },
  INVALID_STATE: { http: 409, code: 40 },
  RATE_LIMITED: { http: 429, code: 50 },
  SERVER_ERROR: { http: 500, code: 1 },
  MAINTENANCE_ERROR: { http: 503, code: 2 },
} as const;

export type ApiErrorName = keyof typeof API_ERRORS;

export class ApiError extends Error {
  constructor(
    readonly errorName: ApiErrorName,
    message: string,
    /** Only where HTTP says more than the contract's table, e.g. 410 for an expired link. */
    private readonly httpOverride?: number,
  ) {
    super(message);
  }

  get http(): number {
    return this.httpOverride ?? API_ERRORS[this.errorName].http;
  }

  toBody() {
    return { error: { code: API_ERRORS[this.errorName].code, name: this.errorName, message: this.message } };
  }
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );
}

/** zod's complaints, as the contract's MISSING_PARAMETER or MALFORMED_PARAMETER, naming the field. */
export function fromZodError(error: z.ZodError, input: unknown, where: string): ApiError {
  const first = error.issues[0];
  const path = first?.path ?? [];
  const missing =
    first !== undefined &&
    ((first.code === 'custom' && first.params?.missing === true) ||
      (first.code !== 'custom' && valueAt(input, path) === undefined));
  const field = [where, ...path.map(String)].filter(Boolean).join('.');
  return new ApiError(
    missing ? 'MISSING_PARAMETER' : 'MALFORMED_PARAMETER',
    `${field}: ${first?.message ?? 'invalid'}`,
  );
}

const REFUSALS: Record<string, ApiErrorName> = {
  [REFUSAL_TYPES.invalid_state]: 'INVALID_STATE',
  [REFUSAL_TYPES.malformed]: 'MALFORMED_PARAMETER',
  [REFUSAL_TYPES.not_found]: 'ROUTE_NOT_FOUND',
};

/**
 * gRPC codes that say "not now" rather than "never": the engine restarting (cancelled, unavailable),
 * slow or busy (deadline, exhausted), or a workflow between two tasks (a query while its last task
 * is retried answers failed precondition). The client should try again.
 */
const GRPC_TRY_AGAIN = new Set([1, 4, 8, 9, 14]);

/** What Temporal said, in the contract's words. Unknown failures are logged and answered without details. */
export function fromTemporalError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    const name = REFUSALS[error.cause.type ?? ''];
    if (name) return new ApiError(name, error.cause.message);
  }
  if (error instanceof WorkflowNotFoundError)
    return new ApiError('REQUEST_NOT_FOUND', 'no request with this id');
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return new ApiError('INVALID_STATE', 'a request with this id exists already');
  }
  // The client wraps most gRPC errors in a ServiceError; the status code is on its cause.
  const grpc = [error, (error as { cause?: unknown } | null)?.cause].find(isGrpcServiceError);
  if (grpc && GRPC_TRY_AGAIN.has(grpc.code ?? -1)) {
    return new ApiError(
      'MAINTENANCE_ERROR',
      'the workflow engine cannot answer right now; try again shortly',
    );
  }
  return undefined;
}

/** Any error a handler threw, as the contract's error; what is not the client's doing is logged. */
export function apiErrorOf(error: unknown, req: Request, log: Logger): ApiError {
  let apiError = fromTemporalError(error);
  // body-parser's own refusals (bad JSON, too large, compressed): the client's mistake.
  const parser = error as { type?: string; status?: number; expose?: boolean };
  if (!apiError && parser.type === 'entity.parse.failed') {
    apiError = new ApiError('MALFORMED_PARAMETER', 'the body is not valid JSON');
  } else if (!apiError && parser.expose && parser.status !== undefined && parser.status < 500) {
    apiError = new ApiError('MALFORMED_PARAMETER', `the body was refused: ${(error as Error).message}`);
  }
  if (!apiError) {
    log.error({ err: error, method: req.method, route: req.route?.path }, 'unexpected error');
    apiError = new ApiError('SERVER_ERROR', 'something went wrong on our side; it has been logged');
  }
  return apiError;
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const apiError = apiErrorOf(error, req, log);
    // A download that failed midway: the client must not take what it got for the whole file.
    if (res.headersSent) return void res.destroy();
    if (apiError.errorName === 'MAINTENANCE_ERROR') res.set('Retry-After', '1');
    res.status(apiError.http).json(apiError.toBody());
  };
}
