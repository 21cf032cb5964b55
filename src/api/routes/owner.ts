import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import multer, { type StorageEngine } from 'multer';
import {
  REPLACED_LINK_MESSAGE,
  refuseOwnerAnswer,
  type OwnerAnswer,
  type OwnerTaskView,
  type Phase,
  type StoredFile,
} from '../../domain';
import type { BlobStore } from '../../infra/blob-store';
import { verifyOwnerToken, type OwnerTokenClaims } from '../../infra/owner-token';
import type { SecretList } from '../../infra/signed-token';
import type { Logger } from '../../infra/logger';
import { ApiError, apiErrorOf, type ApiErrorName } from '../errors';
import { ownerDonePage, ownerFormPage, ownerProblemPage, type OwnerPageContext } from '../owner-page';
import type { RequestService } from '../request-service';
import { OWNER_UPLOAD_LIMITS, ownerAnswerSchema, validate } from '../schemas';

const MEGABYTES = `${OWNER_UPLOAD_LIMITS.bytesPerFile / (1024 * 1024)} MB`;

/**
 * JSON is read whole before it is parsed: base64 files in JSON are held to one file's worth, and
 * more or larger files go through the form, which streams them. Other answers are a word.
 */
const OWNER_BODY_LIMITS = {
  jsonWithFiles: Math.ceil(OWNER_UPLOAD_LIMITS.bytesPerFile * (4 / 3)) + 64 * 1024,
  answer: 4 * 1024,
};

/** A refusal whose page for people has a title of its own, not the one of its HTTP status. */
class OwnerProblem extends ApiError {
  constructor(
    readonly title: string,
    errorName: ApiErrorName,
    message: string,
    http?: number,
  ) {
    super(errorName, message, http);
  }
}

/** The owner's link is their only credential: signed, scoped to one request, integration and phase, expiring. */
function ownerClaims(token: string, secrets: SecretList): OwnerTokenClaims {
  const check = verifyOwnerToken(token, secrets, new Date());
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

const replacedLink = () =>
  new OwnerProblem('This link was replaced by a newer one', 'API_MISUSE', REPLACED_LINK_MESSAGE, 410);

/** A person with a browser (the form, or the page) gets pages; a program gets the contract's JSON. */
function wantsHtml(req: Request): boolean {
  if (req.method === 'POST') return !req.is('application/json');
  return req.accepts(['json', 'html']) === 'html';
}

/** Each uploaded file streams to the blob store as it arrives; multer removes it if the form is refused. */
function blobStorage(blobs: BlobStore, requestId: string): StorageEngine {
  return {
    _handleFile(_req, file, callback) {
      blobs.putStream(requestId, file.stream, 'bin').then(
        ({ key, size }) => callback(null, { path: key, size }),
        (error: Error) => callback(error),
      );
    },
    _removeFile(_req, file, callback) {
      blobs.delete(file.path).then(
        () => callback(null),
        (error: Error) => callback(error),
      );
    },
  };
}

/** multer's refusals, in words an owner understands, each with its page's title. */
function formProblem(error: multer.MulterError, phase: Phase): ApiError {
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return new OwnerProblem(
        'These files are too large',
        'MALFORMED_PARAMETER',
        `A file is larger than ${MEGABYTES}. Split it, or send it to the privacy team another way.`,
        413,
      );
    case 'LIMIT_FILE_COUNT':
    case 'LIMIT_PART_COUNT':
      return new OwnerProblem(
        'Too many files',
        'MALFORMED_PARAMETER',
        phase === 'access'
          ? `At most ${OWNER_UPLOAD_LIMITS.files} files at once. Put several files in one archive.`
          : 'A deletion answer takes no files.',
        413,
      );
    default:
      return new ApiError('MALFORMED_PARAMETER', `The form could not be read (${error.message}).`);
  }
}

/** The body, read only once the link is known to be answered now, and only as large as its answer can be. */
function answerBody(blobs: BlobStore): RequestHandler {
  const json = {
    files: express.json({ limit: OWNER_BODY_LIMITS.jsonWithFiles, inflate: false }),
    answer: express.json({ limit: OWNER_BODY_LIMITS.answer, inflate: false }),
  };
  const urlencoded = express.urlencoded({ extended: false, limit: OWNER_BODY_LIMITS.answer });
  return (req, res, next) => {
    const { phase, requestId } = res.locals.claims as OwnerTokenClaims;
    if (req.is('application/json')) {
      const parse = phase === 'access' ? json.files : json.answer;
      return parse(req, res, (error?: unknown) => {
        if ((error as { type?: string } | undefined)?.type !== 'entity.too.large') return next(error);
        next(
          new OwnerProblem(
            'This answer is too large',
            'MALFORMED_PARAMETER',
            phase === 'access'
              ? `A JSON answer carries at most ${MEGABYTES} of files; send more, or larger, files as a form (multipart/form-data).`
              : 'A deletion answer is one word: {"answer": "deleted" | "no_data" | "not_deleted"}.',
            413,
          ),
        );
      });
    }
    if (!req.is('multipart/form-data')) return urlencoded(req, res, next);
    const files = phase === 'access' ? OWNER_UPLOAD_LIMITS.files : 0;
    const form = multer({
      storage: blobStorage(blobs, requestId),
      limits: {
        files,
        fileSize: OWNER_UPLOAD_LIMITS.bytesPerFile,
        fields: 5,
        fieldSize: 1024,
        parts: files + 5,
      },
    }).array('files');
    form(req, res, (error: unknown) => {
      if (!error) return next();
      // The owner left mid-upload: multer removed what it stored, and nobody waits for an answer.
      if (req.socket.destroyed) return;
      next(error instanceof multer.MulterError ? formProblem(error, phase) : error);
    });
  };
}

interface JsonFile {
  name: string;
  content: Buffer;
}

/** What the form already streamed to the blob store. */
function formUploads(req: Request): StoredFile[] {
  return ((req.files ?? []) as Express.Multer.File[]).map((f) => ({
    ref: f.path,
    // Browsers send UTF-8 names; multer reads them as Latin-1.
    name: Buffer.from(f.originalname, 'latin1').toString('utf8').slice(0, 255) || 'file',
    size: f.size,
  }));
}

/** The answer as the owner gave it: from JSON (base64 files, still to store) or from the form. */
function answerOf(req: Request, uploaded: StoredFile[]): { answer: OwnerAnswer['answer']; json: JsonFile[] } {
  if (req.is('application/json')) {
    const body = validate(ownerAnswerSchema, req.body ?? {}, 'body');
    const json =
      body.answer === 'files'
        ? body.files.map((f) => ({ name: f.name, content: Buffer.from(f.content_base64, 'base64') }))
        : [];
    return { answer: body.answer, json };
  }
  const fields = (req.body ?? {}) as Record<string, unknown>;
  const answer = typeof fields.answer === 'string' ? fields.answer : '';
  if (answer === 'files' && uploaded.length === 0) {
    throw new ApiError(
      'MISSING_PARAMETER',
      'Choose at least one file, or answer that you hold no data about this person.',
    );
  }
  const parsed = validate(
    ownerAnswerSchema,
    answer === 'files'
      ? { answer, files: uploaded.map(() => ({ name: 'f', content_base64: '' })) }
      : { answer },
    'answer',
  );
  return { answer: parsed.answer, json: [] };
}

async function storeJsonFiles(blobs: BlobStore, requestId: string, files: JsonFile[], into: StoredFile[]) {
  for (const file of files) {
    if (file.content.length > OWNER_UPLOAD_LIMITS.bytesPerFile) {
      throw new OwnerProblem(
        'These files are too large',
        'MALFORMED_PARAMETER',
        `${file.name}: files may be at most ${MEGABYTES}`,
        413,
      );
    }
    // Stored under a generated name; the uploader's name is kept only as a label.
    into.push({
      ref: await blobs.put(requestId, file.content, 'bin'),
      name: file.name,
      size: file.content.length,
    });
  }
}

function pageContext(task: OwnerTaskView): OwnerPageContext {
  return { ...task, limits: OWNER_UPLOAD_LIMITS };
}

const PROBLEM_TITLES: Record<number, string> = {
  400: 'This answer could not be read',
  403: 'This link is not valid',
  404: 'This request no longer exists',
  409: 'This request is already answered',
  413: 'This answer is too large',
};

export function ownerRouter(deps: {
  requests: RequestService;
  blobs: BlobStore;
  tokenSecrets: SecretList;
  log: Logger;
}): Router {
  const { requests, blobs, tokenSecrets, log } = deps;
  const router = Router();

  /** The task the link names, which must still exist, as the link's round sees it. */
  const taskOf = async (claims: OwnerTokenClaims) => {
    const task = await requests.ownerTask(
      claims.requestId,
      claims.integrationId,
      claims.phase,
      claims.linkId,
    );
    if (!task)
      throw new ApiError('REQUEST_NOT_FOUND', 'This request no longer asks anything of this system.');
    if (task.replaced) throw replacedLink();
    return task;
  };

  /** Kept only if they are the answer taken: a refused answer leaves no files behind. */
  const dropFiles = (files: StoredFile[]) =>
    Promise.all(
      files.map((file) =>
        blobs
          .delete(file.ref)
          .catch((error: unknown) => log.warn({ err: error }, 'a refused upload was not removed')),
      ),
    );

  router.get('/owner/:token', async (req, res) => {
    const claims = ownerClaims(req.params.token, tokenSecrets);
    const task = await taskOf(claims);
    if (!wantsHtml(req)) {
      return void res.json({
        request: { id: task.requestId, type: task.requestType },
        integration: { id: claims.integrationId, name: task.integrationName },
        phase: claims.phase,
        status: task.status,
      });
    }
    res.set('Cache-Control', 'no-store');
    if (!task.waiting) {
      const answered = task.status?.detail ? ` (${task.status.detail})` : '';
      return void res
        .status(409)
        .send(
          ownerProblemPage(
            PROBLEM_TITLES[409]!,
            `This request no longer waits for an answer from you${answered}.`,
          ),
        );
    }
    res.send(ownerFormPage(pageContext(task)));
  });

  router.post(
    '/owner/:token',
    async (req, res, next) => {
      const claims = ownerClaims(String(req.params.token), tokenSecrets);
      // Before any of the body is read: a link that is not answered now costs a lookup, not an upload.
      const task = await taskOf(claims);
      if (!task.waiting)
        throw new ApiError('INVALID_STATE', 'this request no longer waits for an answer from you');
      res.locals.claims = claims;
      res.locals.task = task;
      next();
    },
    answerBody(blobs),
    async (req, res) => {
      const claims = res.locals.claims as OwnerTokenClaims;
      const stored = formUploads(req);
      let kept: StoredFile[] = [];
      let request;
      try {
        const { answer, json } = answerOf(req, stored);
        const refusal = refuseOwnerAnswer(claims.phase, answer);
        if (refusal) throw new ApiError('MALFORMED_PARAMETER', `body.answer: ${refusal}`);
        await storeJsonFiles(blobs, claims.requestId, json, stored);
        const reply: OwnerAnswer =
          answer === 'files' ? { answer, files: stored } : ({ answer } as OwnerAnswer);
        // The workflow takes one answer per round: of concurrent answers, the others are refused here.
        request = await requests.ownerReply(
          claims.requestId,
          claims.integrationId,
          claims.phase,
          reply,
          claims.linkId,
        );
        if (answer === 'files') kept = stored;
      } finally {
        await dropFiles(stored.filter((file) => !kept.includes(file)));
      }
      const status = request.integrations.find((i) => i.id === claims.integrationId)?.[claims.phase] ?? null;
      if (!wantsHtml(req)) return void res.json({ received: true, status });
      res.set('Cache-Control', 'no-store');
      const before = res.locals.task as OwnerTaskView;
      res.send(ownerDonePage(pageContext(before), status?.detail ?? 'answer received'));
    },
  );

  // Pages for people: the same refusals as the JSON errors, with the same statuses.
  const pageOnError: ErrorRequestHandler = (error, req, res, next) => {
    if (!wantsHtml(req)) return next(error);
    const problem = apiErrorOf(error, req, log);
    const status = problem.http;
    const message =
      problem.errorName === 'REQUEST_NOT_FOUND' ? 'This request no longer exists.' : problem.message;
    const title =
      problem instanceof OwnerProblem ? problem.title : (PROBLEM_TITLES[status] ?? 'Something went wrong');
    res.status(status).set('Cache-Control', 'no-store').send(ownerProblemPage(title, message));
  };
  router.use('/owner', pageOnError);
  return router;
}
