import { checkSafeName, type BlobStore } from './blob-store';

/** One HTTP call an integration made (or the failure that kept it from making one). */
export interface CallLogEntry {
  time: string;
  attempt: number;
  phase: string;
  method: string | null;
  /** Without secrets or the subject's identifiers. */
  url: string | null;
  status: number | null;
  /**
   * Of a failed call only: the start of the answer, redacted likewise (see excerptOf). A
   * successful call keeps no body: what it brought is the subject's data, kept in the blob store.
   */
  excerpt: string | null;
  error: string | null;
  /** The answer's size in bytes, where it was read whole (entries written before it: absent). */
  bytes?: number | null;
  duration_ms?: number | null;
}

/**
 * Every call of every attempt, per integration of a request: what an operator downloads to see
 * why an integration is in Error. Kept in the blob store under the request's prefix, one entry per
 * attempt: the API reads what any worker wrote, and retention deletes it with the request.
 */
export class CallLog {
  constructor(private readonly blobs: BlobStore) {}

  async append(requestId: string, integrationId: string, entries: CallLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.blobs.appendEntry(
      requestId,
      seriesOf(integrationId),
      entries.map((e) => JSON.stringify(e)).join('\n'),
    );
  }

  /**
   * The JSON document `{ ...head, entries: [...] }`, in pieces read as they are sent: a log grows
   * with every attempt of every call, so it is never held whole.
   */
  async *document(requestId: string, integrationId: string, head: object): AsyncGenerator<string> {
    yield `${JSON.stringify(head).slice(0, -1)},"entries":[`;
    let first = true;
    for await (const line of this.lines(requestId, integrationId)) {
      yield first ? line : `,${line}`;
      first = false;
    }
    yield ']}';
  }

  /** Each line is one entry as append wrote it: JSON already; one attempt's entries are read at a time. */
  private async *lines(requestId: string, integrationId: string): AsyncGenerator<string> {
    for await (const attempt of this.blobs.entries(requestId, seriesOf(integrationId)))
      for (const line of attempt.split('\n')) if (line) yield line;
  }
}

function seriesOf(integrationId: string): string {
  return `calls.${checkSafeName(integrationId, 'integration id')}`;
}

const EXCERPT_CHARS = 500;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A word of two letters (a surname like "Li") is redacted only where it stands alone. */
const WHOLE_WORD_BELOW = 3;

/**
 * Replaces every occurrence of the given values (secrets, the subject's identifiers and name), in
 * any letter case, as written, as in a path, as in a query string (axios writes spaces as "+").
 */
export function redact(text: string, values: string[]): string {
  const forms = values
    .filter((v) => v.length >= WHOLE_WORD_BELOW)
    .flatMap((value) => [value, encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+')]);
  const words = values.filter((v) => v.length === WHOLE_WORD_BELOW - 1).map(escapeRegExp);
  const longestFirst = [...new Set(forms)].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const alternatives = [
    ...longestFirst,
    ...words.map((word) => `(?<![\\p{L}\\p{N}])${word}(?![\\p{L}\\p{N}])`),
  ];
  if (alternatives.length === 0) return text;
  return text.replace(new RegExp(alternatives.join('|'), 'giu'), '[redacted]');
}

// Shaped like an email address, or like a phone number (at least 7 digits, with the usual separators).
// Bounded repetitions: a hostile answer of one long word must not cost quadratic time.
const EMAIL = /[^\s@"'<>(),;:]{1,64}@[^\s@"'<>(),;:]{1,253}\.[A-Za-z]{2,24}/g;
const PHONE = /\+?\(?\d(?:[\s().-]{0,3}\d){6,20}/g;

/** Scrubbing looks this far into a text: an excerpt keeps far less, and an answer may be 32 MB. */
const SCRUBBED_CHARS = 8 * 500;

function scrub(text: string, values: string[]): string {
  // Cut at the last whole word, so no half of an address is left for the patterns to miss.
  let end = Math.min(text.length, SCRUBBED_CHARS);
  if (end < text.length) while (end > 0 && !/\s/.test(text.charAt(end))) end--;
  const start = text.slice(0, end);
  return redact(start, values).replace(EMAIL, '[redacted]').replace(PHONE, '[redacted]');
}

/** Fields of an error answer that say what went wrong: their short strings are kept (scrubbed). */
const ERROR_FIELDS = new Set([
  'error',
  'errors',
  'error_code',
  'error_description',
  'code',
  'message',
  'status',
  'type',
  'title',
  'reason',
]);
/** Below these, every field describes the error (Batch's `{"error": {"name": "AUTHENTICATION_INVALID"}}`). */
const ERROR_OBJECTS = new Set(['error', 'errors']);
const KEPT_STRING_CHARS = 200;
const MAX_DEPTH = 6;
const MAX_ITEMS = 5;
const MAX_KEYS = 50;
const KEPT_KEY_CHARS = 100;

/**
 * A JSON answer's shape: every key, numbers and booleans, and the short strings that explain an
 * error (of an error field, or within an `error` object); any other string (a name, an address,
 * whatever the service echoed) is gone, since no pattern recognises personal data in general.
 */
function shapeOf(node: unknown, key: string | undefined, inError: boolean, depth: number): unknown {
  if (node === null || typeof node === 'number' || typeof node === 'boolean') return node;
  const explains = inError || (key !== undefined && ERROR_FIELDS.has(key.toLowerCase()));
  if (typeof node === 'string') return explains && node.length <= KEPT_STRING_CHARS ? node : '[redacted]';
  if (depth >= MAX_DEPTH) return '[…]';
  const within = inError || (key !== undefined && ERROR_OBJECTS.has(key.toLowerCase()));
  if (Array.isArray(node)) {
    const kept = node.slice(0, MAX_ITEMS).map((item) => shapeOf(item, key, within, depth + 1));
    return node.length > MAX_ITEMS ? [...kept, `[${node.length - MAX_ITEMS} more]`] : kept;
  }
  if (typeof node === 'object') {
    const entries = Object.entries(node);
    const kept = entries
      .slice(0, MAX_KEYS)
      .map(([k, v]) => [k.slice(0, KEPT_KEY_CHARS), shapeOf(v, k, within, depth + 1)]);
    if (entries.length > MAX_KEYS) kept.push(['[…]', `${entries.length - MAX_KEYS} more keys`]);
    return Object.fromEntries(kept);
  }
  return '[redacted]';
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * What the call log keeps of a failed call's answer, at most EXCERPT_CHARS: a JSON answer's shape
 * (see shapeOf), or a text's start, either scrubbed of the given values and of anything shaped
 * like an email address or a phone number. Binary answers and streams are not excerpted.
 */
export function excerptOf(body: unknown, values: string[]): string | null {
  if (body === undefined || body === null || body === '') return null;
  if (Buffer.isBuffer(body) || body instanceof ArrayBuffer) return `[binary, ${body.byteLength} bytes]`;
  if (typeof body === 'object' && typeof (body as { pipe?: unknown }).pipe === 'function') return null;
  const json = typeof body === 'string' ? parsedJson(body) : body;
  const text =
    json !== undefined && typeof json === 'object' && json !== null
      ? JSON.stringify(shapeOf(json, undefined, false, 0))
      : String(body);
  return scrub(text, values).slice(0, EXCERPT_CHARS);
}

/** An error text (the service's words may be in it), scrubbed like an excerpt. */
export function scrubbedError(text: string, values: string[]): string {
  return scrub(text, values).slice(0, EXCERPT_CHARS);
}
