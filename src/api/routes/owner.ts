import express, { Router } from 'express';
import type { BlobStore } from '../../infra/blob-store';
import { verifyOwnerToken, type OwnerTokenClaims } from '../../infra/owner-token';
import { refuseOwnerAnswer, type OwnerAnswer, type StoredFile } from '../../domain';
import { ApiError } from '../errors';
import type { RequestService } from '../request-service';
import { OWNER_UPLOAD_LIMITS, ownerAnswerSchema, type OwnerAnswerBody, validate } from '../schemas';

/** Uploads arrive base64-encoded inside JSON: room for the upload limits, and no more. */
const OWNER_BODY_LIMIT =
  Math.ceil(OWNER_UPLOAD_LIMITS.files * OWNER_UPLOAD_LIMITS.bytesPerFile * (4 / 3)) + 64 * 1024;

/** The owner's link is their only credential: signed, scoped to one request, integration and phase, expiring. */
function ownerClaims(token: string, secret: string): OwnerTokenClaims {
  const check = verifyOwnerToken(token, secret, new Date());
  if (check.valid) return check.claims;
  if (check.reason === 'expired') {
    throw new ApiError('API_MISUSE', 'This link has expired. Ask the privacy team for a new one.', 410);
  }
  throw new ApiError('API_MISUSE', 'This link is not valid. Check that you copied all of it.');
}

async function storeFiles(blobs: BlobStore, requestId: string, body: OwnerAnswerBody): Promise<OwnerAnswer> {
  if (body.answer !== 'files') return body;
  const files: StoredFile[] = [];
  for (const file of body.files) {
    const content = Buffer.from(file.content_base64, 'base64');
    if (content.length > OWNER_UPLOAD_LIMITS.bytesPerFile) {
      throw new ApiError(
        'MALFORMED_PARAMETER',
        `${file.name}: files may be at most ${OWNER_UPLOAD_LIMITS.bytesPerFile} bytes`,
      );
    }
    // Stored under a generated name; the uploader's name is kept only as a label.
    files.push({ ref: await blobs.put(requestId, content, 'bin'), name: file.name, size: content.length });
  }
  return { answer: 'files', files };
}

export function ownerRouter(deps: {
  requests: RequestService;
  blobs: BlobStore;
  tokenSecret: string;
}): Router {
  const { requests, blobs, tokenSecret } = deps;
  const router = Router();

  router.get('/owner/:token', async (req, res) => {
    const claims = ownerClaims(req.params.token, tokenSecret);
    const request = await requests.get(claims.requestId);
    const integration = request.integrations.find((i) => i.id === claims.integrationId);
    res.json({
      request: { id: request.id, type: request.type },
      integration: integration && { id: integration.id, name: integration.name },
      phase: claims.phase,
      status: integration?.[claims.phase] ?? null,
    });
  });

  router.post(
    '/owner/:token',
    (req, res, next) => {
      res.locals.claims = ownerClaims(req.params.token, tokenSecret);
      next();
    },
    // Only a valid link may send a large body; compressed bodies are refused (no inflation bombs).
    express.json({ limit: OWNER_BODY_LIMIT, inflate: false }),
    async (req, res) => {
      const claims = res.locals.claims as OwnerTokenClaims;
      const body = validate(ownerAnswerSchema, req.body ?? {}, 'body');
      const refusal = refuseOwnerAnswer(claims.phase, body.answer);
      if (refusal) throw new ApiError('MALFORMED_PARAMETER', `body.answer: ${refusal}`);
      // Check first that the answer is still wanted, so refused uploads are never stored.
      const before = await requests.get(claims.requestId);
      const waiting = before.integrations.find((i) => i.id === claims.integrationId)?.[claims.phase];
      if (!waiting || waiting.state !== 'Processing') {
        throw new ApiError('INVALID_STATE', 'this request no longer waits for an answer from you');
      }
      const answer = await storeFiles(blobs, claims.requestId, body);
      const request = await requests.ownerReply(claims.requestId, claims.integrationId, claims.phase, answer);
      const integration = request.integrations.find((i) => i.id === claims.integrationId);
      res.json({ received: true, status: integration?.[claims.phase] ?? null });
    },
  );

  return router;
}
