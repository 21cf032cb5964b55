import { isAxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import type { ConnectorContext } from './connector';

function urlOf(config: InternalAxiosRequestConfig | undefined, http: AxiosInstance): string {
  if (!config) return '';
  return http.getUri(config);
}

/**
 * What every connector's axios instance does: waits its turn where the integration is rate
 * limited, and reports every exchange, answered or failed, to the call log.
 */
export function instrument(
  http: AxiosInstance,
  { onCall, pace }: Pick<ConnectorContext, 'onCall' | 'pace'>,
): void {
  if (pace) {
    http.interceptors.request.use(async (config) => {
      await pace();
      return config;
    });
  }
  http.interceptors.response.use(
    (response) => {
      onCall({
        method: (response.config.method ?? 'get').toUpperCase(),
        url: urlOf(response.config, http),
        status: response.status,
        body: response.data,
        error: null,
      });
      return response;
    },
    (error: unknown) => {
      if (isAxiosError(error)) {
        onCall({
          method: (error.config?.method ?? 'get').toUpperCase(),
          url: urlOf(error.config, http),
          status: error.response?.status ?? null,
          body: error.response?.data,
          error: error.response ? null : (error.code ?? error.message),
        });
      }
      return Promise.reject(error);
    },
  );
}
