import { API_KEY } from './stack';

// Tests read error bodies and views alike; the assertions say what they expect.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A call to a real HTTP server, the way a script or a browser would make it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; key?: string | null; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== null) headers['X-Authorization'] = options.key ?? API_KEY;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Polls until `check` returns something other than undefined; fails with the last value seen. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (accept(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${options.what ?? 'a condition'}; last value: ${JSON.stringify(last, null, 2)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
