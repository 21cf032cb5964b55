import { createHash } from 'node:crypto';
import { signToken, verifyToken, type SecretList } from '../infra/signed-token';
import { ApiError } from './errors';

const PURPOSE = 'page';
/** Long enough to page through any list at leisure; Temporal's own tokens carry no expiry. */
const LIFETIME_SECONDS = 24 * 60 * 60;

/** Which list a token pages through: one made for a filter never pages another. */
const queryDigest = (query: string) => createHash('sha256').update(query).digest('base64url').slice(0, 22);

/**
 * The list's next_page_token: Temporal's token, signed by Lethe. Temporal takes some 19 s to
 * refuse a token it did not make, so a token Lethe did not make for this query never reaches it.
 * `pinned`: what the first page fixed that every later one must reuse (the list's retention
 * cutoff, which would otherwise move between pages); signed with the rest.
 */
export function pageTokens(secrets: SecretList) {
  return {
    seal(temporalToken: Uint8Array, query: string, pinned = ''): string {
      const expiresAt = Math.floor(Date.now() / 1000) + LIFETIME_SECONDS;
      const payload = {
        t: Buffer.from(temporalToken).toString('base64url'),
        q: queryDigest(query),
        p: pinned,
      };
      return signToken(PURPOSE, payload, expiresAt, secrets);
    },
    /** `queryOf`: the query of the list, given what its first page pinned. */
    open(token: string, queryOf: (pinned: string) => string): { temporalToken: Buffer; pinned: string } {
      const check = verifyToken(PURPOSE, token, secrets, new Date());
      if (!check.valid && check.reason === 'expired') {
        throw new ApiError(
          'MALFORMED_PARAMETER',
          'query.page_token: expired; list again from the first page',
        );
      }
      const pinned = check.valid && typeof check.payload.p === 'string' ? check.payload.p : '';
      if (
        !check.valid ||
        typeof check.payload.t !== 'string' ||
        check.payload.q !== queryDigest(queryOf(pinned))
      ) {
        throw new ApiError(
          'MALFORMED_PARAMETER',
          'query.page_token: not a next_page_token from a previous page',
        );
      }
      return { temporalToken: Buffer.from(check.payload.t, 'base64url'), pinned };
    },
  };
}

export type PageTokens = ReturnType<typeof pageTokens>;
