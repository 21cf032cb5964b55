import { Readable, type PassThrough } from 'node:stream';
import yazl from 'yazl';
import { describePhase, type RequestSnapshot } from '../domain';
import type { BlobStore } from '../infra/blob-store';
import type { ConnectorRecord } from './connectors';
import { readRecords, surveyRecords, tableRecords } from './record-blobs';

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
 * One CSV cell: nested values as JSON, RFC 4180 quoting. The third party's text may be hostile:
 * one that starts like a formula is quoted and prefixed with `'`.
 */
function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const formula = typeof value === 'string' && FORMULA_START.test(text);
  const safe = formula ? `'${text}` : text;
  return formula || /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A CSV of the records, a line at a time: one column per top-level field any record has. */
export async function* recordsCsv(
  columns: string[],
  records: AsyncIterable<ConnectorRecord>,
): AsyncGenerator<string> {
  yield `${columns.map(csvCell).join(',')}\r\n`;
  for await (const record of records) yield `${columns.map((c) => csvCell(record[c])).join(',')}\r\n`;
}

/** The records as one JSON array, a record at a time. */
async function* recordsJson(records: AsyncIterable<ConnectorRecord>): AsyncGenerator<string> {
  let first = true;
  for await (const record of records) {
    yield `${first ? '[\n' : ',\n'}${JSON.stringify(record, null, 2)}`;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
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

/** Where the package's contents are read: the records blobs one record at a time, uploads as streams. */
export type ExportSource = Pick<BlobStore, 'get' | 'open'>;

/** Records read while the package is written tell the activity it is alive this often. */
const PROGRESS_EVERY = 1_000;

/**
 * The package for an access-type request: `manifest.json`, and for each integration selected,
 * its records (JSON; CSV too for portability) and the files its owner uploaded; for
 * `access_categories`, the categories of data held instead of the data. The zip streams out as
 * it is written; nothing it holds is read whole.
 */
export async function buildExportPackage(
  input: ExportInput,
  source: ExportSource,
  now: Date,
  /** Called as the work goes on: after each blob surveyed, and while records are written. */
  progress: () => void = () => undefined,
): Promise<Readable> {
  const { request } = input;
  const zip = new yazl.ZipFile();
  const output = zip.outputStream as PassThrough;
  // yazl reports a failed entry on the zip, not on its output: the upload reading it must hear of it.
  const fail = (error: Error) => output.destroy(error);
  zip.on('error', fail);
  const add = (name: string, open: () => Promise<Readable> | Readable) =>
    zip.addReadStreamLazy(name, (done) => {
      Promise.resolve()
        .then(open)
        .then((stream) => done(null, stream.on('error', fail)), fail);
    });
  const records = async function* (ref: string) {
    let read = 0;
    for await (const record of readRecords(source, ref)) {
      if (++read % PROGRESS_EVERY === 0) progress();
      yield record;
    }
  };
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
    const found = ref ? await surveyRecords(source, ref) : { count: 0, fields: [], tables: new Map() };
    progress();
    entry.records = found.count;
    entry.files = integration.uploads.length;
    if (categoriesOnly) {
      const holds = found.count > 0 || integration.uploads.length > 0;
      entry.categories = holds ? (input.categories[integration.id] ?? []) : [];
      continue;
    }
    if (ref && found.tables.size > 0) {
      // A database's rows: a file per table (each read from the blob in turn, never held whole).
      entry.tables = Object.fromEntries([...found.tables].map(([table, survey]) => [table, survey.count]));
      for (const [table, survey] of found.tables) {
        add(`${folder}/${table}.json`, () => Readable.from(recordsJson(tableRecords(records(ref), table))));
        if (request.type === 'portability')
          add(`${folder}/${table}.csv`, () =>
            Readable.from(recordsCsv(survey.fields, tableRecords(records(ref), table))),
          );
      }
    } else if (ref) {
      add(`${folder}/records.json`, () => Readable.from(recordsJson(records(ref))));
      if (request.type === 'portability')
        add(`${folder}/records.csv`, () => Readable.from(recordsCsv(found.fields, records(ref))));
    }
    for (const [index, file] of integration.uploads.entries()) {
      add(`${folder}/files/${uploadName(index, file.name)}`, () => source.open(file.ref));
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
  zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), 'manifest.json');
  zip.end();
  return output;
}
