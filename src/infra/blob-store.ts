import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Where the subject's data lives: records found, files uploaded, exports. Keys are generated here,
 * never taken from user input, and only keys travel through Temporal.
 */
export interface BlobStore {
  put(requestId: string, content: Buffer | string, extension: string): Promise<string>;
  /**
   * Stores what `content` streams as it arrives (an upload), never whole in memory; a stream
   * that fails leaves nothing behind.
   */
  putStream(requestId: string, content: Readable, extension: string): Promise<{ key: string; size: number }>;
  get(key: string): Promise<Buffer>;
  /** The blob as a stream, for downloads: a missing blob fails here, before anything is sent. */
  open(key: string): Promise<Readable>;
  /** One blob, e.g. an upload whose answer was refused after it was stored. */
  delete(key: string): Promise<void>;
  /**
   * Adds one small entry to a named series of the request's (a journal's steps), as an object of
   * its own: the series lives wherever the blobs do, not on the disk of the worker that wrote it.
   */
  appendEntry(requestId: string, series: string, content: string): Promise<void>;
  /** A series' entries in the order they were appended, read one at a time; none for a series never begun. */
  entries(requestId: string, series: string): AsyncIterable<string>;
  /** Everything kept for one request, entries included: what retention removes when it ends. */
  deleteRequest(requestId: string): Promise<void>;
}

/**
 * The one rule for the names in keys (a request id, an integration id, a part of a series): safe
 * as a path segment on disk and as part of an S3 key, whoever wrote them.
 */
const SAFE_NAME = '[A-Za-z0-9_-]{1,128}';
const SAFE_NAME_PATTERN = new RegExp(`^${SAFE_NAME}$`);
const KEY_PATTERN = new RegExp(`^${SAFE_NAME}/[0-9a-f-]{36}\\.[a-z0-9]{1,8}$`);
/** A series is safe names joined by dots: `journal.crm.access.find`. */
const SERIES_PATTERN = new RegExp(`^${SAFE_NAME}(\\.${SAFE_NAME})*$`);

/** `value`, if it follows the rule for names in keys; `what` it is names it in the error. */
export function checkSafeName(value: string, what: string): string {
  if (!SAFE_NAME_PATTERN.test(value)) throw new Error(`not a ${what}: ${value}`);
  return value;
}

/** A new key in the request's folder: a random name, never one a user chose. */
export function newBlobKey(requestId: string, extension: string): string {
  if (!SAFE_NAME_PATTERN.test(requestId) || !/^[a-z0-9]{1,8}$/.test(extension)) {
    throw new Error('blob keys are made of a request id and a short lowercase extension');
  }
  return `${requestId}/${randomUUID()}.${extension}`;
}

export function checkBlobKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw new Error(`not a blob key: ${key}`);
  return key;
}

/** Where a series' entries sit under the request's prefix. */
export function entriesPrefix(requestId: string, series: string): string {
  if (!SERIES_PATTERN.test(series)) throw new Error(`not an entry series: ${series}`);
  return `${checkRequestId(requestId)}/entries/${series}/`;
}

let lastStamp = 0;

/**
 * An entry's name sorts as it was appended: microseconds since the epoch, strictly increasing in
 * this process (two appends in one millisecond), then a random tail so two processes never collide.
 */
export function newEntryName(): string {
  lastStamp = Math.max(Date.now() * 1000, lastStamp + 1);
  return `${String(lastStamp).padStart(17, '0')}-${randomUUID().slice(0, 8)}.json`;
}

export function checkRequestId(requestId: string): string {
  return checkSafeName(requestId, 'request id');
}

export class FileBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  async put(requestId: string, content: Buffer | string, extension: string): Promise<string> {
    const key = newBlobKey(requestId, extension);
    await this.writeAtomically(this.pathOf(key), content);
    return key;
  }

  /** Write then rename, so a reader never sees half a file. */
  private async writeAtomically(target: string, content: Buffer | string): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, content, { mode: 0o600 });
    await rename(temporary, target);
  }

  async putStream(
    requestId: string,
    content: Readable,
    extension: string,
  ): Promise<{ key: string; size: number }> {
    const key = newBlobKey(requestId, extension);
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    let size = 0;
    try {
      await pipeline(
        content,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(temporary, { mode: 0o600 }),
      );
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return { key, size };
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async open(key: string): Promise<Readable> {
    return (await open(this.pathOf(key))).createReadStream();
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async appendEntry(requestId: string, series: string, content: string): Promise<void> {
    await this.writeAtomically(
      path.join(this.root, entriesPrefix(requestId, series), newEntryName()),
      content,
    );
  }

  async *entries(requestId: string, series: string): AsyncGenerator<string> {
    const folder = path.join(this.root, entriesPrefix(requestId, series));
    // Most series were never begun: asked first, so the read does not fail with ENOENT, whose
    // error (a captured stack) costs the worker more than the read itself.
    if (!existsSync(folder)) return;
    const names = (await readdir(folder)).filter((name) => name.endsWith('.json')).sort();
    for (const name of names) yield await readFile(path.join(folder, name), 'utf8');
  }

  async deleteRequest(requestId: string): Promise<void> {
    await rm(path.join(this.root, checkRequestId(requestId)), { recursive: true, force: true });
  }

  private pathOf(key: string): string {
    return path.join(this.root, checkBlobKey(key));
  }
}
