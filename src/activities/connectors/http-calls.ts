import { isAxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import type { HttpCall } from './connector';

function urlOf(config: InternalAxiosRequestConfig | undefined, http: AxiosInstance): string {
  if (!config) return '';
  return http.getUri(config);
}

/** Reports every exchange of an axios instance, answered or failed, to `onCall`. */
export function recordCalls(http: AxiosInstance, onCall: (call: HttpCall) => void): void {
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
