import { parseDuration } from '../domain';
import { signToken, verifyToken, type SecretList } from '../infra/signed-token';
import { ApiError } from './errors';

const PURPOSE = 'export';

/**
 * The subject's link to their package: no API key, valid for `expiry` after the export was built.
 * Made from the export's time, so every read of the request shows the same link.
 */
export function exportLinker(publicUrl: string, secrets: SecretList, expiry: string) {
  const ttlMs = parseDuration(expiry);
  return (requestId: string, exportedAt: string): string => {
    const expiresAt = Math.floor((new Date(exportedAt).getTime() + ttlMs) / 1000);
    return `${publicUrl}/exports/${signToken(PURPOSE, { r: requestId }, expiresAt, secrets)}`;
  };
}

/** The request an export link names; 410 once it has expired. */
export function exportLinkRequest(token: string, secrets: SecretList, now: Date): string {
  const check = verifyToken(PURPOSE, token, secrets, now);
  if (check.valid && typeof check.payload.r === 'string') return check.payload.r;
  if (!check.valid && check.reason === 'expired') {
    throw new ApiError(
      'API_MISUSE',
      'This download link has expired. Ask the privacy team for a new one.',
      410,
    );
  }
  throw new ApiError('API_MISUSE', 'This download link is not valid. Check that you copied all of it.');
}
