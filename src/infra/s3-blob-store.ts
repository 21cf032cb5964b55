import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  type ObjectIdentifier,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
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

  async get(key: string): Promise<Buffer> {
    return this.getObject(checkBlobKey(key));
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

  async readEntries(requestId: string, series: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of this.currentObjects(entriesPrefix(requestId, series)))
      keys.push(...page.map((o) => o.Key));
    return Promise.all(keys.map(async (key) => (await this.getObject(key)).toString('utf8')));
  }

  /**
   * Every version of every object under the request's prefix, and every delete marker: in a
   * versioned bucket, deleting the current objects alone would keep the data as old versions.
   * Then whatever is still listed (a store that keeps no versions may not list them).
   */
  async deleteRequest(requestId: string): Promise<void> {
    const prefix = `${checkRequestId(requestId)}/`;
    for await (const page of this.objectVersions(prefix)) await this.deleteObjects(requestId, page);
    for await (const page of this.currentObjects(prefix)) await this.deleteObjects(requestId, page);
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

  private async *objectVersions(prefix: string): AsyncGenerator<ObjectIdentifier[]> {
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await this.s3
        .send(
          new ListObjectVersionsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionIdMarker,
          }),
        )
        .catch((error: unknown) => {
          // A store that keeps no versions may not know the call: its current objects are all there is.
          if (error instanceof Error && UNVERSIONED_ANSWERS.has(error.name)) return undefined;
          throw error;
        });
      if (!page) return;
      yield [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].flatMap((o) =>
        o.Key ? [{ Key: o.Key, VersionId: o.VersionId }] : [],
      );
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      versionIdMarker = more ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
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
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!object.Body) throw new Error(`blob ${key} has no body`);
    return Buffer.from(await object.Body.transformToByteArray());
  }

  destroy(): void {
    this.s3.destroy();
  }
}
