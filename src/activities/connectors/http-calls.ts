import axios, {
  AxiosError,
  isAxiosError,
  type AxiosInstance,
  type AxiosResponseTransformer,
  type InternalAxiosRequestConfig,
} from 'axios';
import { z } from 'zod';
import { durationSchema, parseDuration } from '../../domain';
import { ConnectorFailure, type ConnectorContext } from './connector';

const MB = 1024 * 1024;

/** Options every HTTP connector takes besides its base_url: how long a call may take, how much one answer may weigh. */
export const connectionOptions = {
  timeout: durationSchema.default('30s'),
  /** The largest answer one call may bring, in MB: a bigger one is an error, never read whole. */
  max_response_mb: z.number().positive().max(1024).default(32),
};

/** Where a connector's calls go and within which bounds, as its options say. */
export interface ConnectionOptions {
  base_url: string;
  timeout: string;
  max_response_mb: number;
}

/** `scheme://host:port` of a URL: what a secret may be sent to. */
export function originOf(url: string, base?: string): string {
  return new URL(url, base).origin;
}

/**
 * A value put into a URL path, as one segment: encoded, and refused if it is `.` or `..`, which
 * URL normalisation would turn into "this folder" or "the folder above".
 */
export function pathSegment(value: string, what: string): string {
  if (value === '.' || value === '..')
    throw new ConnectorFailure(
      { kind: 'unusable_value' },
      `${what} is "${value}", which cannot be a path segment`,
    );
  return encodeURIComponent(value);
}

/** The answer was bigger than the integration accepts: the bytes stop being read. */
export function tooLarge(maxMb: number): ConnectorFailure {
  return new ConnectorFailure(
    { kind: 'unknown' },
    `the response is larger than ${maxMb} MB (the integration's max_response_mb)`,
  );
}

export interface ConnectorHttpOptions {
  /** Sent with every call: the connector's credentials, what it accepts. */
  headers: Record<string, string>;
  /** Origins besides base_url's that the connector may call (without its secrets). */
  alsoAllowed?: string[];
}

/** axios stopped reading an answer at maxContentLength (a read whole or a streamed one). */
export function isSizeExceeded(error: unknown): boolean {
  return (
    isAxiosError(error) &&
    error.code === AxiosError.ERR_BAD_RESPONSE &&
    /maxContentLength size of .* exceeded/.test(error.message)
  );
}

/**
 * The one way a connector gets an HTTP client, so that every connector, whatever it calls:
 * - follows no redirect: a 3xx is an error, so no secret, no subject's identifier, no body goes
 *   to a host the integration was not configured for, and no other host's answer is read as records;
 * - calls only base_url's origin (scheme, host and port) and those the options allow;
 * - reads at most max_response_mb of any answer;
 * - waits its turn where the integration is rate limited, and reports every exchange, answered or
 *   failed, to the call log, with its size and duration.
 */
export function connectorHttp(
  connection: ConnectionOptions,
  options: ConnectorHttpOptions,
  context: ConnectorContext,
): AxiosInstance {
  const maxBytes = Math.floor(connection.max_response_mb * MB);
  const sizes = new WeakMap<object, number>();
  const recordSize: AxiosResponseTransformer = function (this: InternalAxiosRequestConfig, data: unknown) {
    if (typeof data === 'string') sizes.set(this, Buffer.byteLength(data));
    else if (Buffer.isBuffer(data)) sizes.set(this, data.length);
    return data;
  };
  const defaults = axios.defaults.transformResponse;
  const http = axios.create({
    baseURL: connection.base_url,
    timeout: parseDuration(connection.timeout),
    signal: context.signal,
    headers: options.headers,
    maxRedirects: 0,
    maxContentLength: maxBytes,
    maxBodyLength: maxBytes,
    transformResponse: [recordSize, ...(Array.isArray(defaults) ? defaults : defaults ? [defaults] : [])],
  });
  const allowed = new Set([
    originOf(connection.base_url),
    ...(options.alsoAllowed ?? []).map((o) => originOf(o)),
  ]);
  instrument(http, context, { allowed, sizes, maxResponseMb: connection.max_response_mb });
  return http;
}

function urlOf(config: InternalAxiosRequestConfig | undefined, http: AxiosInstance): string {
  if (!config) return '';
  return http.getUri(config);
}

/** Why a call failed, in words an operator reads, where its status alone does not say. */
function failureText(error: AxiosError, url: string, maxResponseMb: number): string | null {
  const status = error.response?.status;
  if (status !== undefined && status >= 300 && status < 400) {
    const location = error.response?.headers.location;
    const to = typeof location === 'string' ? ` to ${targetOrigin(location, url)}` : '';
    return `redirect${to} refused: Lethe follows no redirects (configure the final URL)`;
  }
  if (error.response) return null;
  if (isSizeExceeded(error)) return tooLarge(maxResponseMb).message;
  return error.code ?? error.message;
}

/** A redirect's target, by origin only: its path and query may carry the subject's identifiers. */
function targetOrigin(location: string, from: string): string {
  return URL.canParse(location, from) ? originOf(location, from) : 'an unreadable location';
}

function instrument(
  http: AxiosInstance,
  { onCall, pace }: Pick<ConnectorContext, 'onCall' | 'pace'>,
  limits: { allowed: Set<string>; sizes: WeakMap<object, number>; maxResponseMb: number },
): void {
  const started = new WeakMap<object, number>();
  http.interceptors.request.use(async (config) => {
    const url = urlOf(config, http);
    if (!limits.allowed.has(originOf(url))) {
      const refusal = `refused to call ${originOf(url)}: not the configured service's origin`;
      onCall({
        method: (config.method ?? 'get').toUpperCase(),
        url,
        status: null,
        body: undefined,
        error: refusal,
      });
      throw new ConnectorFailure({ kind: 'unknown' }, refusal);
    }
    if (pace) await pace();
    started.set(config, Date.now());
    return config;
  });
  const timing = (config: InternalAxiosRequestConfig | undefined) => {
    const at = config && started.get(config);
    return {
      bytes: (config && limits.sizes.get(config)) ?? null,
      durationMs: at === undefined ? null : Date.now() - at,
    };
  };
  http.interceptors.response.use(
    (response) => {
      onCall({
        method: (response.config.method ?? 'get').toUpperCase(),
        url: urlOf(response.config, http),
        status: response.status,
        body: response.data,
        error: null,
        ...timing(response.config),
      });
      return response;
    },
    (error: unknown) => {
      if (isAxiosError(error)) {
        const url = urlOf(error.config, http);
        onCall({
          method: (error.config?.method ?? 'get').toUpperCase(),
          url,
          status: error.response?.status ?? null,
          body: error.response?.data,
          error: failureText(error, url, limits.maxResponseMb),
          ...timing(error.config),
        });
      }
      return Promise.reject(error);
    },
  );
}
