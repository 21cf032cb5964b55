import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type ObjectIdentifier,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import {
  checkBlobKey,
  checkRequestId,
  entriesPrefix,
  newBlobKey,
  newEntryName,
  type BlobStore,
} from './blob-store';

/** What S3-compatible stores without versions answer to ListObjectVersions. */
const UNVERSIONED_ANSWERS = new Set(['NotImplemented', 'MethodNotAllowed']);

/** S3's smallest part but the last: what a streamed upload holds in memory at most. */
const PART_BYTES = 5 * 1024 * 1024;

/**
 * The blob store for production: one S3 bucket (or any S3-compatible store), one prefix per
 * request. A PUT is atomic in S3: a reader sees the whole object or none.
 */
export class S3BlobStore implements BlobStore {
  private readonly s3: S3Client;

  constructor(
    private readonly bucket: string,
    config: S3ClientConfig = {},
  ) {
    this.s3 = new S3Client(config);
  }

  async put(requestId: string, content: Buffer | string, extension: string): Promise<string> {
    const key = newBlobKey(requestId, extension);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: typeof content === 'string' ? Buffer.from(content, 'utf8') : content,
      }),
    );
    return key;
  }

  /** Small streams in one PUT; larger ones in parts, as they arrive, so memory holds one part at most. */
  async putStream(
    requestId: string,
    content: Readable,
    extension: string,
  ): Promise<{ key: string; size: number }> {
    const key = newBlobKey(requestId, extension);
    const target = { Bucket: this.bucket, Key: key };
    let chunks: Buffer[] = [];
    let buffered = 0;
    let size = 0;
    let upload: { UploadId: string; parts: CompletedPart[] } | undefined;
    const sendPart = async () => {
      upload ??= {
        UploadId: (await this.s3.send(new CreateMultipartUploadCommand(target))).UploadId as string,
        parts: [],
      };
      const PartNumber = upload.parts.length + 1;
      const body = Buffer.concat(chunks);
      chunks = [];
      buffered = 0;
      const { ETag } = await this.s3.send(
        new UploadPartCommand({ ...target, UploadId: upload.UploadId, PartNumber, Body: body }),
      );
      upload.parts.push({ ETag, PartNumber });
    };
    try {
      for await (const chunk of content as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        buffered += chunk.length;
        size += chunk.length;
        if (buffered >= PART_BYTES) await sendPart();
      }
      if (!upload) {
        await this.s3.send(new PutObjectCommand({ ...target, Body: Buffer.concat(chunks) }));
        return { key, size };
      }
      if (buffered > 0) await sendPart();
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          ...target,
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: upload.parts },
        }),
      );
      return { key, size };
    } catch (error) {
      if (upload) {
        const { UploadId } = upload;
        await this.s3.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => undefined);
      }
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: checkBlobKey(key) }));
  }

  async get(key: string): Promise<Buffer> {
    return this.getObject(checkBlobKey(key));
  }

  async open(key: string): Promise<Readable> {
    // In Node, the SDK's body is an http.IncomingMessage.
    return (await this.body(checkBlobKey(key))) as unknown as Readable;
  }

  private async body(key: string) {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!object.Body) throw new Error(`blob ${key} has no body`);
    return object.Body;
  }

  async appendEntry(requestId: string, series: string, content: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `${entriesPrefix(requestId, series)}${newEntryName()}`,
        Body: Buffer.from(content, 'utf8'),
      }),
    );
  }

  async *entries(requestId: string, series: string): AsyncGenerator<string> {
    for await (const page of this.currentObjects(entriesPrefix(requestId, series)))
      for (const { Key } of page) yield (await this.getObject(Key)).toString('utf8');
  }

  /**
   * Every version of every object under the request's prefix, and every delete marker: in a
   * versioned bucket, deleting the current objects alone would keep the data as old versions.
   * Then whatever is still listed (a store that keeps no versions may not list them). Each round
   * lists from the start until nothing is left: the marker of a next page may name a version this
   * purge just deleted, and S3 would then list from somewhere else.
   */
  async deleteRequest(requestId: string): Promise<void> {
    const prefix = `${checkRequestId(requestId)}/`;
    for (const firstPage of [() => this.firstVersions(prefix), () => this.firstCurrentObjects(prefix)]) {
      let previous: string | undefined;
      for (let objects = await firstPage(); objects.length > 0; objects = await firstPage()) {
        const first = JSON.stringify(objects[0]);
        if (first === previous)
          throw new Error(`S3 still lists ${objects[0]!.Key} of ${requestId} after deleting it`);
        previous = first;
        await this.deleteObjects(requestId, objects);
      }
    }
  }

  /** A key S3 could not delete fails the purge, so the activity tries again. */
  private async deleteObjects(requestId: string, objects: ObjectIdentifier[]): Promise<void> {
    if (objects.length === 0) return;
    const answer = await this.s3.send(
      new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }),
    );
    const failed = answer.Errors ?? [];
    if (failed.length > 0) {
      const { Key, Code, Message } = failed[0]!;
      throw new Error(
        `S3 did not delete ${failed.length} of ${objects.length} objects of ${requestId}, first ${Key}: ${Code} ${Message}`,
      );
    }
  }

  private async firstVersions(prefix: string): Promise<ObjectIdentifier[]> {
    const page = await this.s3
      .send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix }))
      .catch((error: unknown) => {
        // A store that keeps no versions may not know the call: its current objects are all there is.
        if (error instanceof Error && UNVERSIONED_ANSWERS.has(error.name)) return undefined;
        throw error;
      });
    return [...(page?.Versions ?? []), ...(page?.DeleteMarkers ?? [])].flatMap((o) =>
      o.Key ? [{ Key: o.Key, VersionId: o.VersionId }] : [],
    );
  }

  private async firstCurrentObjects(prefix: string): Promise<ObjectIdentifier[]> {
    const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }));
    return (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
  }

  /** The current objects under a prefix, in S3's order (by key). */
  private async *currentObjects(prefix: string): AsyncGenerator<{ Key: string }[]> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      yield (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async getObject(key: string): Promise<Buffer> {
    return Buffer.from(await (await this.body(key)).transformToByteArray());
  }

  destroy(): void {
    this.s3.destroy();
  }
}
