import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import multer, { type StorageEngine } from 'multer';
import type { OwnerTaskView, Phase, StoredFile } from '../../domain';
import type { OwnerTokenClaims } from '../../infra/owner-token';
import type { Logger } from '../../infra/logger';
import { ApiError, apiErrorOf } from '../errors';
import {
  OwnerProblem,
  tooLargeFiles,
  UPLOAD_LIMIT_TEXT,
  type GivenAnswer,
  type OpenedLink,
  type OwnerAnswers,
} from '../owner-answers';
import { ownerDonePage, ownerFormPage, ownerProblemPage, type OwnerPageContext } from '../owner-page';
import { OWNER_UPLOAD_LIMITS } from '../schemas';

/**
 * JSON is read whole before it is parsed: base64 files in JSON are held to one file's worth, and
 * more or larger files go through the form, which streams them. Other answers are a word.
 */
const OWNER_BODY_LIMITS = {
  jsonWithFiles: Math.ceil(OWNER_UPLOAD_LIMITS.bytesPerFile * (4 / 3)) + 64 * 1024,
  answer: 4 * 1024,
};

/** A person with a browser (the form, or the page) gets pages; a program gets the contract's JSON. */
function wantsHtml(req: Request): boolean {
  if (req.method === 'POST') return !req.is('application/json');
  return req.accepts(['json', 'html']) === 'html';
}

/** Each uploaded file streams to the blob store as it arrives; multer removes it if the form is refused. */
function uploadStorage(owners: OwnerAnswers, claims: OwnerTokenClaims): StorageEngine {
  return {
    _handleFile(_req, file, callback) {
      owners.storeUpload(claims, file.stream).then(
        ({ key, size }) => callback(null, { path: key, size }),
        (error: Error) => callback(error),
      );
    },
    _removeFile(_req, file, callback) {
      owners.removeUpload(file.path).then(
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
      return tooLargeFiles(
        `A file is larger than ${UPLOAD_LIMIT_TEXT}. Split it, or send it to the privacy team another way.`,
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
function answerBody(owners: OwnerAnswers): RequestHandler {
  const json = {
    files: express.json({ limit: OWNER_BODY_LIMITS.jsonWithFiles, inflate: false }),
    answer: express.json({ limit: OWNER_BODY_LIMITS.answer, inflate: false }),
  };
  const urlencoded = express.urlencoded({ extended: false, limit: OWNER_BODY_LIMITS.answer });
  return (req, res, next) => {
    const { claims } = res.locals.opened as OpenedLink;
    const { phase } = claims;
    if (req.is('application/json')) {
      const parse = phase === 'access' ? json.files : json.answer;
      return parse(req, res, (error?: unknown) => {
        if ((error as { type?: string } | undefined)?.type !== 'entity.too.large') return next(error);
        next(
          new OwnerProblem(
            'This answer is too large',
            'MALFORMED_PARAMETER',
            phase === 'access'
              ? `A JSON answer carries at most ${UPLOAD_LIMIT_TEXT} of files; send more, or larger, files as a form (multipart/form-data).`
              : 'A deletion answer is one word: {"answer": "deleted" | "no_data" | "not_deleted"}.',
            413,
          ),
        );
      });
    }
    if (!req.is('multipart/form-data')) return urlencoded(req, res, next);
    const files = phase === 'access' ? OWNER_UPLOAD_LIMITS.files : 0;
    const form = multer({
      storage: uploadStorage(owners, claims),
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

/** What the form already streamed to the blob store. */
function formUploads(req: Request): StoredFile[] {
  return ((req.files ?? []) as Express.Multer.File[]).map((f) => ({
    ref: f.path,
    // Browsers send UTF-8 names; multer reads them as Latin-1.
    name: Buffer.from(f.originalname, 'latin1').toString('utf8').slice(0, 255) || 'file',
    size: f.size,
  }));
}

/** The answer as the owner gave it: JSON (base64 files, still to store), or the form. */
function givenAnswer(req: Request): GivenAnswer {
  if (req.is('application/json')) return { from: 'json', body: req.body };
  return { from: 'form', fields: req.body, uploaded: formUploads(req) };
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

export function ownerRouter(deps: { owners: OwnerAnswers; log: Logger }): Router {
  const { owners, log } = deps;
  const router = Router();

  router.get('/owner/:token', async (req, res) => {
    const { claims, task } = await owners.open(req.params.token);
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
      res.locals.opened = await owners.openForAnswer(String(req.params.token));
      next();
    },
    answerBody(owners),
    async (req, res) => {
      const { claims, task } = res.locals.opened as OpenedLink;
      const status = await owners.answer(claims, givenAnswer(req));
      if (!wantsHtml(req)) return void res.json({ received: true, status });
      res.set('Cache-Control', 'no-store');
      res.send(ownerDonePage(pageContext(task), status?.detail ?? 'answer received'));
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
