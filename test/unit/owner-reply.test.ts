import assert from 'node:assert/strict';
import {
  decideOwnerReply,
  newRequestSnapshot,
  parseLetheConfig,
  presentOwnerTask,
  REPLACED_LINK_MESSAGE,
  type PhaseStatus,
  type RequestSnapshot,
} from '../../src/domain';
import { signOwnerToken, verifyOwnerToken } from '../../src/infra/owner-token';

function waitingFor(linkId: string | undefined): RequestSnapshot {
  const snapshot = newRequestSnapshot({
    id: 'req_unit',
    type: 'access',
    regulation: 'gdpr',
    requestDate: '2026-12-01T10:00:00.000Z',
    triggerType: 'api',
    autoProcess: false,
    subject: { email: 'unit@example.com' },
    integrations: parseLetheConfig({
      integrations: [
        {
          id: 'warehouse',
          name: 'Data Warehouse',
          type: 'direct_contact',
          owner: { name: 'Dana', email: 'dana@example.com' },
        },
      ],
    }).integrations,
  });
  const awaiting: PhaseStatus = {
    kind: 'awaiting_owner',
    deadline: '2026-12-15T10:00:00.000Z',
    onNoResponse: 'skip',
    overdue: false,
    ...(linkId === undefined ? {} : { linkId }),
  };
  snapshot.integrations[0]!.access = awaiting;
  return snapshot;
}

describe('an owner’s answer is taken through the current round’s link only', () => {
  // [the round the request waits on, the round of the link, taken, refused with]
  const rows: [string | undefined, string | undefined, boolean, string?][] = [
    ['round-2', 'round-2', true],
    ['round-2', 'round-1', false, REPLACED_LINK_MESSAGE],
    ['round-2', undefined, false, REPLACED_LINK_MESSAGE],
    // Rounds started before rounds had ids: their links carry none, and are taken.
    [undefined, undefined, true],
    [undefined, 'round-1', false, REPLACED_LINK_MESSAGE],
  ];
  for (const [current, link, taken, message] of rows) {
    it(`waiting on ${current ?? 'a round without id'}, a link of ${link ?? 'no round'}: ${taken ? 'taken' : 'refused'}`, () => {
      const snapshot = waitingFor(current);
      const decision = decideOwnerReply(snapshot, 'warehouse', 'access', { answer: 'no_data' }, link);
      assert.equal(decision.accepted, taken);
      if (!decision.accepted) assert.equal(decision.message, message);
      const task = presentOwnerTask(snapshot, 'warehouse', 'access', new Date('2026-12-02T10:00:00Z'), link)!;
      assert.equal(task.waiting, taken);
      assert.equal(task.replaced, !taken);
    });
  }

  it('an answered task is neither waiting nor replaced', () => {
    const snapshot = waitingFor('round-1');
    snapshot.integrations[0]!.access = { kind: 'complete', outcome: { kind: 'files_uploaded', count: 0 } };
    const task = presentOwnerTask(snapshot, 'warehouse', 'access', new Date(), 'round-1')!;
    assert.deepEqual([task.waiting, task.replaced], [false, false]);
    const decision = decideOwnerReply(snapshot, 'warehouse', 'access', { answer: 'no_data' }, 'round-1');
    assert.equal(decision.accepted, false);
  });
});

describe('owner links', () => {
  const secret = ['unit-secret-unit-secret-unit-secret-0123'] as const;
  const claims = {
    requestId: 'req_unit',
    integrationId: 'warehouse',
    phase: 'access' as const,
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };

  it('one round, one link: the same claims sign the same token; another round another one', () => {
    const first = signOwnerToken({ ...claims, linkId: 'round-1' }, secret);
    assert.equal(signOwnerToken({ ...claims, linkId: 'round-1' }, secret), first);
    assert.notEqual(signOwnerToken({ ...claims, linkId: 'round-2' }, secret), first);
    const check = verifyOwnerToken(first, secret, new Date());
    assert.deepEqual(check, { valid: true, claims: { ...claims, linkId: 'round-1' } });
  });

  it('a link without a round verifies without one', () => {
    const check = verifyOwnerToken(signOwnerToken(claims, secret), secret, new Date());
    assert.deepEqual(check, { valid: true, claims });
  });
});
