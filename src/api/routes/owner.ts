import express, { Router, type ErrorRequestHandler, type Request } from 'express';
import multer from 'multer';
import { refuseOwnerAnswer, type OwnerAnswer, type OwnerTaskView, type StoredFile } from '../../domain';
import type { BlobStore } from '../../infra/blob-store';
import { verifyOwnerToken, type OwnerTokenClaims } from '../../infra/owner-token';
import type { SecretList } from '../../infra/signed-token';
import type { Logger } from '../../infra/logger';
import { ApiError, apiErrorOf } from '../errors';
import { ownerDonePage, ownerFormPage, ownerProblemPage, type OwnerPageContext } from '../owner-page';
import type { RequestService } from '../request-service';
import { OWNER_UPLOAD_LIMITS, ownerAnswerSchema, validate } from '../schemas';

/** JSON clients send uploads base64-encoded: room for the upload limits, and no more. */
const OWNER_JSON_LIMIT =
  Math.ceil(OWNER_UPLOAD_LIMITS.files * OWNER_UPLOAD_LIMITS.bytesPerFile * (4 / 3)) + 64 * 1024;

const MEGABYTES = `${OWNER_UPLOAD_LIMITS.bytesPerFile / (1024 * 1024)} MB`;

/** The owner's link is their only credential: signed, scoped to one request, integration and phase, expiring. */
function ownerClaims(token: string, secrets: SecretList): OwnerTokenClaims {
  const check = verifyOwnerToken(token, secrets, new Date());
  if (check.valid) return check.claims;
  if (check.reason === 'expired') {
    throw new ApiError('API_MISUSE', 'This link has expired. Ask the privacy team for a new one.', 410);
  }
  throw new ApiError('API_MISUSE', 'This link is not valid. Check that you copied all of it.');
}

/** A person with a browser (the form, or the page) gets pages; a program gets the contract's JSON. */
function wantsHtml(req: Request): boolean {
  if (req.method === 'POST') return !req.is('application/json');
  return req.accepts(['json', 'html']) === 'html';
}

/** Uploads go to memory, within the limits, then to the blob store under generated names. */
const uploads = multer({
  storage: multer.memoryStorage(),
  limits: {
    files: OWNER_UPLOAD_LIMITS.files,
    fileSize: OWNER_UPLOAD_LIMITS.bytesPerFile,
    fields: 5,
    fieldSize: 1024,
    parts: OWNER_UPLOAD_LIMITS.files + 5,
  },
}).array('files');

const UPLOAD_PROBLEMS: Record<string, string> = {
  LIMIT_FILE_SIZE: `A file is larger than ${MEGABYTES}. Split it, or send it to the privacy team another way.`,
  LIMIT_FILE_COUNT: `At most ${OWNER_UPLOAD_LIMITS.files} files at once. Put several files in one archive.`,
  LIMIT_PART_COUNT: `At most ${OWNER_UPLOAD_LIMITS.files} files at once. Put several files in one archive.`,
};

/** The form's parts: multer's failures become the contract's errors, in words an owner understands. */
const parseForm: express.RequestHandler = (req, res, next) => {
  if (!req.is('multipart/form-data'))
    return express.urlencoded({ extended: false, limit: '4kb' })(req, res, next);
  uploads(req, res, (error: unknown) => {
    if (!error) return next();
    if (error instanceof multer.MulterError) {
      const tooLarge = error.code in UPLOAD_PROBLEMS;
      return next(
        new ApiError(
          'MALFORMED_PARAMETER',
          UPLOAD_PROBLEMS[error.code] ?? `The form could not be read (${error.message}).`,
          tooLarge ? 413 : undefined,
        ),
      );
    }
    next(error);
  });
};

interface UploadedFile {
  name: string;
  content: Buffer;
}

/** The answer as the owner gave it: from JSON (base64 files) or from the form (multipart files). */
function answerOf(req: Request): { answer: OwnerAnswer['answer']; files: UploadedFile[] } {
  if (req.is('application/json')) {
    const body = validate(ownerAnswerSchema, req.body ?? {}, 'body');
    const files =
      body.answer === 'files'
        ? body.files.map((f) => ({ name: f.name, content: Buffer.from(f.content_base64, 'base64') }))
        : [];
    return { answer: body.answer, files };
  }
  const fields = (req.body ?? {}) as Record<string, unknown>;
  const answer = typeof fields.answer === 'string' ? fields.answer : '';
  const files = ((req.files ?? []) as Express.Multer.File[]).map((f) => ({
    // Browsers send UTF-8 names; multer reads them as Latin-1.
    name: Buffer.from(f.originalname, 'latin1').toString('utf8').slice(0, 255) || 'file',
    content: f.buffer,
  }));
  if (answer === 'files' && files.length === 0) {
    throw new ApiError(
      'MISSING_PARAMETER',
      'Choose at least one file, or answer that you hold no data about this person.',
    );
  }
  const parsed = validate(
    ownerAnswerSchema,
    answer === 'files' ? { answer, files: files.map(() => ({ name: 'f', content_base64: '' })) } : { answer },
    'answer',
  );
  return { answer: parsed.answer, files };
}

async function storeFiles(blobs: BlobStore, requestId: string, files: UploadedFile[]): Promise<StoredFile[]> {
  const stored: StoredFile[] = [];
  for (const file of files) {
    if (file.content.length > OWNER_UPLOAD_LIMITS.bytesPerFile) {
      throw new ApiError('MALFORMED_PARAMETER', `${file.name}: files may be at most ${MEGABYTES}`, 413);
    }
    // Stored under a generated name; the uploader's name is kept only as a label.
    stored.push({
      ref: await blobs.put(requestId, file.content, 'bin'),
      name: file.name,
      size: file.content.length,
    });
  }
  return stored;
}

function pageContext(task: OwnerTaskView): OwnerPageContext {
  return { ...task, limits: OWNER_UPLOAD_LIMITS };
}

const PROBLEM_TITLES: Record<number, string> = {
  400: 'This answer could not be read',
  403: 'This link is not valid',
  404: 'This request no longer exists',
  409: 'This request is already answered',
  410: 'This link has expired',
  413: 'These files are too large',
};

export function ownerRouter(deps: {
  requests: RequestService;
  blobs: BlobStore;
  tokenSecrets: SecretList;
  log: Logger;
}): Router {
  const { requests, blobs, tokenSecrets } = deps;
  const router = Router();

  /** The task the link names, which must still exist. */
  const taskOf = async (claims: OwnerTokenClaims) => {
    const task = await requests.ownerTask(claims.requestId, claims.integrationId, claims.phase);
    if (!task)
      throw new ApiError('REQUEST_NOT_FOUND', 'This request no longer asks anything of this system.');
    return task;
  };

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
    (req, res, next) => {
      res.locals.claims = ownerClaims(String(req.params.token), tokenSecrets);
      next();
    },
    // Only a valid link may send a large body; compressed bodies are refused (no inflation bombs).
    express.json({ limit: OWNER_JSON_LIMIT, inflate: false }),
    parseForm,
    async (req, res) => {
      const claims = res.locals.claims as OwnerTokenClaims;
      const { answer, files } = answerOf(req);
      const refusal = refuseOwnerAnswer(claims.phase, answer);
      if (refusal) throw new ApiError('MALFORMED_PARAMETER', `body.answer: ${refusal}`);
      // Check first that the answer is still wanted, so refused uploads are never stored.
      const before = await taskOf(claims);
      if (!before.waiting)
        throw new ApiError('INVALID_STATE', 'this request no longer waits for an answer from you');
      const stored = answer === 'files' ? await storeFiles(blobs, claims.requestId, files) : [];
      const reply: OwnerAnswer = answer === 'files' ? { answer, files: stored } : ({ answer } as OwnerAnswer);
      const request = await requests.ownerReply(claims.requestId, claims.integrationId, claims.phase, reply);
      const status = request.integrations.find((i) => i.id === claims.integrationId)?.[claims.phase] ?? null;
      if (!wantsHtml(req)) return void res.json({ received: true, status });
      res.set('Cache-Control', 'no-store');
      res.send(ownerDonePage(pageContext(before), status?.detail ?? 'answer received'));
    },
  );

  // Pages for people: the same refusals as the JSON errors, with the same statuses.
  const pageOnError: ErrorRequestHandler = (error, req, res, next) => {
    if (!wantsHtml(req)) return next(error);
    const problem = apiErrorOf(error, req, deps.log);
    const status = problem.http;
    const message =
      problem.errorName === 'REQUEST_NOT_FOUND' ? 'This request no longer exists.' : problem.message;
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .send(ownerProblemPage(PROBLEM_TITLES[status] ?? 'Something went wrong', message));
  };
  router.use('/owner', pageOnError);
  return router;
}
