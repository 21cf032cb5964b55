import { PHASES, type Phase } from '../domain';
import { signToken, verifyToken, type SecretList } from './signed-token';

/** What an owner's link lets them do: answer one phase of one integration of one request, until it expires. */
export interface OwnerTokenClaims {
  requestId: string;
  integrationId: string;
  phase: Phase;
  /**
   * The round of asking the link belongs to (the workflow's id for it): only the current round's
   * link is taken. Absent from links of rounds started before rounds had ids.
   */
  linkId?: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export type OwnerTokenCheck =
  { valid: true; claims: OwnerTokenClaims } | { valid: false; reason: 'malformed' | 'forged' | 'expired' };

const PURPOSE = 'owner-token';

/**
 * The same claims give the same link: the first email, its reminder and a resent email of one
 * round carry one credential, not one each. The round's id makes each round's link new.
 */
export function signOwnerToken(claims: OwnerTokenClaims, secrets: SecretList): string {
  const payload = {
    r: claims.requestId,
    i: claims.integrationId,
    p: claims.phase,
    ...(claims.linkId === undefined ? {} : { l: claims.linkId }),
  };
  return signToken(PURPOSE, payload, claims.expiresAt, secrets);
}

export function verifyOwnerToken(token: string, secrets: SecretList, now: Date): OwnerTokenCheck {
  const check = verifyToken(PURPOSE, token, secrets, now);
  if (!check.valid) return check;
  const { r, i, p, l, e } = check.payload;
  if (
    typeof r !== 'string' ||
    typeof i !== 'string' ||
    !PHASES.includes(p as Phase) ||
    (l !== undefined && typeof l !== 'string')
  ) {
    return { valid: false, reason: 'malformed' };
  }
  const claims: OwnerTokenClaims = { requestId: r, integrationId: i, phase: p as Phase, expiresAt: e };
  if (l !== undefined) claims.linkId = l as string;
  return { valid: true, claims };
}
