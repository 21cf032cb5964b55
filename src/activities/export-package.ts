import JSZip from 'jszip';
import { describePhase, type RequestSnapshot } from '../domain';
import type { ConnectorRecord } from './connectors';

/** What goes into the package sent to the subject; the activity reads the blobs it names. */
export interface ExportInput {
  request: RequestSnapshot;
  /** Integration id → the blob of records its access phase found. */
  recordRefs: Record<string, string>;
  /** Integration id → the categories of data it holds (configuration). */
  categories: Record<string, string[]>;
}

/** Text a spreadsheet would run as a formula (OWASP's CSV injection list). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A CSV of the records: one column per top-level field; nested values as JSON. RFC 4180 quoting.
 * The third party's text may be hostile: one that starts like a formula is quoted and prefixed with `'`.
 */
export function recordsCsv(records: ConnectorRecord[]): string {
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const cell = (value: unknown) => {
    if (value === undefined || value === null) return '';
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    const formula = typeof value === 'string' && FORMULA_START.test(text);
    const safe = formula ? `'${text}` : text;
    return formula || /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = [columns.map(cell), ...records.map((r) => columns.map((c) => cell(r[c])))];
  return `${lines.map((l) => l.join(',')).join('\r\n')}\r\n`;
}

/** A stored upload's name inside the zip: the uploader's label made safe, numbered so none collide. */
function uploadName(index: number, label: string): string {
  const safe =
    label
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^\.+/, '')
      .slice(0, 100) || 'file';
  return `${String(index + 1).padStart(2, '0')}-${safe}`;
}

/**
 * The package for an access-type request: `manifest.json`, and for each integration selected,
 * its records (JSON; CSV too for portability) and the files its owner uploaded; for
 * `access_categories`, the categories of data held instead of the data.
 */
export async function buildExportPackage(
  input: ExportInput,
  read: (ref: string) => Promise<Buffer>,
  now: Date,
  /** Called as the work goes on: after each blob read, and while the zip is compressed. */
  progress: () => void = () => undefined,
): Promise<Buffer> {
  const readOn = async (ref: string) => {
    const content = await read(ref);
    progress();
    return content;
  };
  const { request } = input;
  const zip = new JSZip();
  const sent = new Set(request.selection ?? []);
  const categoriesOnly = request.type === 'access_categories';
  const integrations = [];
  for (const integration of request.integrations) {
    const folder = `integrations/${integration.id}`;
    const view = describePhase(integration.access, 'access', now);
    const entry: Record<string, unknown> = {
      id: integration.id,
      name: integration.name,
      type: integration.type,
      state: view.state,
      detail: view.detail,
      sent: sent.has(integration.id),
    };
    integrations.push(entry);
    if (!sent.has(integration.id)) continue;
    const ref = input.recordRefs[integration.id];
    const records = ref ? (JSON.parse((await readOn(ref)).toString('utf8')) as ConnectorRecord[]) : [];
    entry.records = records.length;
    entry.files = integration.uploads.length;
    if (categoriesOnly) {
      const holds = records.length > 0 || integration.uploads.length > 0;
      entry.categories = holds ? (input.categories[integration.id] ?? []) : [];
      continue;
    }
    if (ref) {
      zip.file(`${folder}/records.json`, JSON.stringify(records, null, 2));
      if (request.type === 'portability') zip.file(`${folder}/records.csv`, recordsCsv(records));
    }
    for (const [index, file] of integration.uploads.entries()) {
      zip.file(`${folder}/files/${uploadName(index, file.name)}`, await readOn(file.ref));
    }
  }
  const manifest = {
    request: {
      id: request.id,
      type: request.type,
      regulation: request.regulation,
      request_date: request.requestDate,
      due_date: request.dueDate,
      closed_at: request.closedAt,
    },
    generated_at: now.toISOString(),
    integrations,
  };
  zip.file('manifest.json', JSON.stringify(manifest, null, 2));
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }, progress);
}
