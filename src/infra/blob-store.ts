import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where the subject's data lives: records found, files uploaded, exports. Keys are generated here,
 * never taken from user input, and only keys travel through Temporal.
 */
export interface BlobStore {
  put(requestId: string, content: Buffer | string, extension: string): Promise<string>;
  get(key: string): Promise<Buffer>;
}

const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;
const KEY_PATTERN = /^[A-Za-z0-9_-]{1,128}\/[0-9a-f-]{36}\.[a-z0-9]{1,8}$/;

export class FileBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  async put(requestId: string, content: Buffer | string, extension: string): Promise<string> {
    if (!SAFE_SEGMENT.test(requestId) || !/^[a-z0-9]{1,8}$/.test(extension)) {
      throw new Error('blob keys are made of a request id and a short lowercase extension');
    }
    const key = `${requestId}/${randomUUID()}.${extension}`;
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Write then rename, so a reader never sees half a file.
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, content, { mode: 0o600 });
    await rename(temporary, target);
    return key;
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  private pathOf(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new Error(`not a blob key: ${key}`);
    return path.join(this.root, key);
  }
}
