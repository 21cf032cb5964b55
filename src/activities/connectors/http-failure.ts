import { isAxiosError } from 'axios';
import type { FailureCause } from '../../domain';
import { ConnectorFailure } from './connector';

/** Turns whatever an HTTP call threw into a cause the error taxonomy classifies. */
export function failureCauseOf(error: unknown): FailureCause {
  if (error instanceof ConnectorFailure) return error.failure;
  if (isAxiosError(error)) {
    if (error.response) {
      const retryAfter = error.response.headers['retry-after'];
      return typeof retryAfter === 'string'
        ? { kind: 'http', status: error.response.status, retryAfter }
        : { kind: 'http', status: error.response.status };
    }
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') return { kind: 'client_timeout' };
    if (error.code) return { kind: 'network', code: error.code };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return { kind: 'network', code };
  return { kind: 'unknown' };
}
