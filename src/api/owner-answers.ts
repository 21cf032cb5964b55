import type { Readable } from 'node:stream';
import {
  REPLACED_LINK_MESSAGE,
  refuseOwnerAnswer,
  type OwnerAnswer,
  type OwnerTaskView,
  type PhaseStateView,
  type StoredFile,
} from '../domain';
import type { BlobStore } from '../infra/blob-store';
import type { Logger } from '../infra/logger';
import { verifyOwnerToken, type OwnerTokenClaims } from '../infra/owner-token';
import type { SecretList } from '../infra/signed-token';
import { ApiError, type ApiErrorName } from './errors';
import type { RequestService } from './request-service';
import { OWNER_UPLOAD_LIMITS, ownerAnswerSchema, ownerFormAnswerSchema, validate } from './schemas';

export const UPLOAD_LIMIT_TEXT = `${OWNER_UPLOAD_LIMITS.bytesPerFile / (1024 * 1024)} MB`;

/** A refusal whose page for people has a title of its own, not the one of its HTTP status. */
export class OwnerProblem extends ApiError {
  constructor(
    readonly title: string,
    errorName: ApiErrorName,
    message: string,
    http?: number,
  ) {
    super(errorName, message, http);
  }
}

export const tooLargeFiles = (message: string) =>
  new OwnerProblem('These files are too large', 'MALFORMED_PARAMETER', message, 413);

/** An answer as the owner sent it: JSON (files in base64), or a form whose files are stored already. */
export type GivenAnswer =
  { from: 'json'; body: unknown } | { from: 'form'; fields: unknown; uploaded: StoredFile[] };

/** A file of a JSON answer, still to store. */
interface JsonFile {
  name: string;
  content_base64: string;
}

/** What an owner's link opens: whom it is for, and the task as the link's round of asking sees it. */
export interface OpenedLink {
  claims: OwnerTokenClaims;
  task: OwnerTaskView;
}

/**
 * A system owner's answer through their link, as one use case: the link is their only credential
 * (signed, scoped to one request, integration and phase, expiring); the answer must fit the phase;
 * files are kept only if the answer is taken.
 */
export class OwnerAnswers {
  constructor(
    private readonly requests: RequestService,
    private readonly blobs: BlobStore,
    private readonly tokenSecrets: SecretList,
    private readonly log: Logger,
  ) {}

  /** The task the link names, which must still exist, as the link's round sees it. */
  async open(token: string): Promise<OpenedLink> {
    const claims = this.claimsOf(token);
    const task = await this.requests.ownerTask(
      claims.requestId,
      claims.integrationId,
      claims.phase,
      claims.linkId,
    );
    if (!task)
      throw new ApiError('REQUEST_NOT_FOUND', 'This request no longer asks anything of this system.');
    if (task.replaced)
      throw new OwnerProblem(
        'This link was replaced by a newer one',
        'API_MISUSE',
        REPLACED_LINK_MESSAGE,
        410,
      );
    return { claims, task };
  }

  /** Before any of an answer's body is read: a link that is not answered now costs a lookup, not an upload. */
  async openForAnswer(token: string): Promise<OpenedLink> {
    const opened = await this.open(token);
    if (!opened.task.waiting)
      throw new ApiError('INVALID_STATE', 'this request no longer waits for an answer from you');
    return opened;
  }

  /** One file of a form, streamed to the blob store as it arrives. */
  storeUpload(claims: OwnerTokenClaims, stream: Readable): Promise<{ key: string; size: number }> {
    return this.blobs.putStream(claims.requestId, stream, 'bin');
  }

  removeUpload(ref: string): Promise<void> {
    return this.blobs.delete(ref);
  }

  /**
   * Takes the answer, and answers the integration's phase as it then stands. The workflow takes
   * one answer per round: of concurrent answers, the others are refused, and their files dropped.
   */
  async answer(claims: OwnerTokenClaims, given: GivenAnswer): Promise<PhaseStateView | null> {
    const stored = given.from === 'form' ? [...given.uploaded] : [];
    let taken = false;
    try {
      const reply = await this.replyOf(claims, given, stored);
      const request = await this.requests.ownerReply(
        claims.requestId,
        claims.integrationId,
        claims.phase,
        reply,
        claims.linkId,
      );
      taken = reply.answer === 'files';
      return request.integrations.find((i) => i.id === claims.integrationId)?.[claims.phase] ?? null;
    } finally {
      if (!taken) await this.dropFiles(stored);
    }
  }

  /** The reply for the workflow; JSON files are stored into `stored` as they are accepted. */
  private async replyOf(
    claims: OwnerTokenClaims,
    given: GivenAnswer,
    stored: StoredFile[],
  ): Promise<OwnerAnswer> {
    const { answer, jsonFiles } = this.parse(given);
    const refusal = refuseOwnerAnswer(claims.phase, answer);
    if (refusal) throw new ApiError('MALFORMED_PARAMETER', `body.answer: ${refusal}`);
    if (answer !== 'files') return { answer };
    for (const file of jsonFiles) stored.push(await this.storeJsonFile(claims, file));
    return { answer, files: stored };
  }

  private parse(given: GivenAnswer): { answer: OwnerAnswer['answer']; jsonFiles: JsonFile[] } {
    if (given.from === 'json') {
      const body = validate(ownerAnswerSchema, given.body ?? {}, 'body');
      return { answer: body.answer, jsonFiles: body.answer === 'files' ? body.files : [] };
    }
    const fields = (given.fields ?? {}) as Record<string, unknown>;
    const word = typeof fields.answer === 'string' ? fields.answer : '';
    if (word === 'files' && given.uploaded.length === 0) {
      throw new ApiError(
        'MISSING_PARAMETER',
        'Choose at least one file, or answer that you hold no data about this person.',
      );
    }
    return { answer: validate(ownerFormAnswerSchema, { answer: word }, 'answer').answer, jsonFiles: [] };
  }

  private async storeJsonFile(claims: OwnerTokenClaims, file: JsonFile): Promise<StoredFile> {
    const content = Buffer.from(file.content_base64, 'base64');
    if (content.length > OWNER_UPLOAD_LIMITS.bytesPerFile)
      throw tooLargeFiles(`${file.name}: files may be at most ${UPLOAD_LIMIT_TEXT}`);
    // Stored under a generated name; the uploader's name is kept only as a label.
    const ref = await this.blobs.put(claims.requestId, content, 'bin');
    return { ref, name: file.name, size: content.length };
  }

  /** A refused answer leaves no files behind. */
  private async dropFiles(files: StoredFile[]): Promise<void> {
    await Promise.all(
      files.map((file) =>
        this.blobs
          .delete(file.ref)
          .catch((error: unknown) => this.log.warn({ err: error }, 'a refused upload was not removed')),
      ),
    );
  }

  private claimsOf(token: string): OwnerTokenClaims {
    const check = verifyOwnerToken(token, this.tokenSecrets, new Date());
    if (check.valid) return check.claims;
    if (check.reason === 'expired') {
      throw new OwnerProblem(
        'This link has expired',
        'API_MISUSE',
        'This link has expired. Ask the privacy team for a new one.',
        410,
      );
    }
    throw new ApiError('API_MISUSE', 'This link is not valid. Check that you copied all of it.');
  }
}
