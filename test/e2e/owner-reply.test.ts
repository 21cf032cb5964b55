import assert from 'node:assert/strict';
import { signOwnerToken } from '../../src/infra/owner-token';
import { call, eventually } from '../support/http';
import { ownerLinkIn, phaseOf, useStack } from '../support/lethe';

describe('the owner’s answer through the signed link', function () {
  this.timeout(60_000);
  const suite = useStack();

  const answer = (path: string, body: unknown) => call(suite.stack.apiUrl, 'POST', path, { body, key: null });

  it('moves the integration on; forged, expired, reused or misplaced tokens get a 4xx and change nothing', async () => {
    const created = await suite.lethe.create({
      type: 'deletion',
      subject: { email: 'owner-test@example.com' },
      integrations: ['warehouse'],
    });
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    const mail = await eventually(
      async () => suite.stack.smtp.inbox.find((m) => m.subject.includes(created.id)),
      (m) => m !== undefined,
      { what: 'the owner email' },
    );
    const link = new URL(ownerLinkIn(mail!.text));
    const token = link.pathname.split('/').pop() as string;
    const [body, mac] = token.split('.') as [string, string];

    const page = await call(suite.stack.apiUrl, 'GET', link.pathname, { key: null });
    assert.equal(page.status, 200);
    assert.equal(page.body.phase, 'access');

    // Forged: a claim changed under the same signature, or a signature that is not ours.
    const otherClaims = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), i: 'crm' }),
    ).toString('base64url');
    for (const forged of [
      `${otherClaims}.${mac}`,
      `${body}.${Buffer.alloc(32).toString('base64url')}`,
      'not-a-token',
    ]) {
      const res = await answer(`/owner/${forged}`, { answer: 'no_data' });
      assert.equal(res.status, 403, forged);
      assert.equal(res.body.error.name, 'API_MISUSE');
    }

    // Expired: properly signed, but past its time.
    const expired = signOwnerToken(
      {
        requestId: created.id,
        integrationId: 'warehouse',
        phase: 'access',
        expiresAt: Math.floor(Date.now() / 1000) - 1,
      },
      suite.stack.environment.tokenSecrets,
    );
    const late = await answer(`/owner/${expired}`, { answer: 'no_data' });
    assert.equal(late.status, 410);

    // Signed for the deletion phase, which is not running: refused.
    const wrongPhase = signOwnerToken(
      {
        requestId: created.id,
        integrationId: 'warehouse',
        phase: 'deletion',
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      },
      suite.stack.environment.tokenSecrets,
    );
    const misplaced = await answer(`/owner/${wrongPhase}`, { answer: 'deleted' });
    assert.equal(misplaced.status, 409);

    // A deletion answer to an access question is malformed.
    const wrongAnswer = await answer(link.pathname, { answer: 'deleted' });
    assert.equal(wrongAnswer.status, 400);
    assert.equal(wrongAnswer.body.error.name, 'MALFORMED_PARAMETER');

    let request = await suite.lethe.get(created.id);
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Processing',
      detail: 'Due in 14 days',
    });

    const accepted = await answer(link.pathname, { answer: 'no_data' });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.deepEqual(accepted.body.status, { state: 'Complete', detail: 'No files uploaded' });

    const reused = await answer(link.pathname, {
      answer: 'files',
      files: [{ name: 'late.csv', content_base64: Buffer.from('x').toString('base64') }],
    });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.error.name, 'INVALID_STATE');

    request = await suite.lethe.until(
      created.id,
      (r) => r.state === 'Data ready for deletion',
      'Data ready for deletion',
    );
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Complete',
      detail: 'No files uploaded',
    });
  });
});
