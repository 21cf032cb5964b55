import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { BlobStore } from '../infra/blob-store';
import { RECORD_TABLE, type ConnectorRecord, type RecordPages } from './connectors/connector';

/**
 * The records an access phase found, as JSON Lines: written page by page as the connector reads
 * them and read back one record at a time, so neither side holds them all (a blob may be gigabytes).
 */
const EXTENSION = 'jsonl';

export async function storeRecords(
  blobs: BlobStore,
  requestId: string,
  pages: RecordPages,
): Promise<{ ref: string; count: number }> {
  let count = 0;
  async function* lines() {
    for await (const page of pages) {
      count += page.length;
      // JSON.stringify never writes a raw line break: one record, one line.
      if (page.length > 0) yield Buffer.from(`${page.map((record) => JSON.stringify(record)).join('\n')}\n`);
    }
  }
  const { key } = await blobs.putStream(requestId, Readable.from(lines()), EXTENSION);
  return { ref: key, count };
}

export async function* readRecords(
  blobs: Pick<BlobStore, 'get' | 'open'>,
  ref: string,
): AsyncGenerator<ConnectorRecord> {
  // Requests found before records were streamed keep a JSON array.
  if (!ref.endsWith(`.${EXTENSION}`)) {
    yield* JSON.parse((await blobs.get(ref)).toString('utf8')) as ConnectorRecord[];
    return;
  }
  for await (const line of linesOf(await blobs.open(ref)))
    if (line) yield JSON.parse(line) as ConnectorRecord;
}

/**
 * A stream's lines, read no faster than they are taken (readline's iterator reads ahead without
 * bound when its reader is slower, as a zip being compressed is). A long line is joined once.
 */
async function* linesOf(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending: string[] = [];
  for await (const chunk of stream) {
    const parts = decoder.write(chunk as Buffer).split('\n');
    const last = parts.pop() as string;
    if (parts.length > 0) {
      yield pending.join('') + parts[0];
      yield* parts.slice(1);
      pending = [];
    }
    pending.push(last);
  }
  const rest = pending.join('') + decoder.end();
  if (rest) yield rest;
}

/** A table's name as the sql connector's configuration allows it: `users`, `app.users`. */
const TABLE_NAME = /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * How many records a blob holds, and every top-level field any of them has (a CSV's columns);
 * for records that name their table (a database's rows), the same per table.
 */
export async function surveyRecords(
  blobs: Pick<BlobStore, 'get' | 'open'>,
  ref: string,
): Promise<{ count: number; fields: string[]; tables: Map<string, { count: number; fields: string[] }> }> {
  let count = 0;
  const fields = new Set<string>();
  const tables = new Map<string, { count: number; fields: Set<string> }>();
  // Only when every record names a table the way the sql connector does: a third party's field
  // of the same name (which could read "../x") does not name files in the export.
  let byTable = true;
  for await (const record of readRecords(blobs, ref)) {
    count++;
    for (const field of Object.keys(record)) fields.add(field);
    const table = record[RECORD_TABLE];
    if (typeof table !== 'string' || !TABLE_NAME.test(table)) byTable = false;
    if (!byTable || typeof table !== 'string') continue;
    const survey = tables.get(table) ?? { count: 0, fields: new Set<string>() };
    tables.set(table, survey);
    survey.count++;
    for (const field of Object.keys(record)) if (field !== RECORD_TABLE) survey.fields.add(field);
  }
  if (!byTable) tables.clear();
  return {
    count,
    fields: [...fields],
    tables: new Map(
      [...tables].map(([table, survey]) => [table, { count: survey.count, fields: [...survey.fields] }]),
    ),
  };
}

/** The records of one table, without the field that names it. */
export async function* tableRecords(
  records: AsyncIterable<ConnectorRecord>,
  table: string,
): AsyncGenerator<ConnectorRecord> {
  for await (const record of records) {
    if (record[RECORD_TABLE] !== table) continue;
    const row = { ...record };
    delete row[RECORD_TABLE];
    yield row;
  }
}
