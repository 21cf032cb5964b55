import assert from 'node:assert/strict';
import {
  newRequestSnapshot,
  presentRequest,
  proofRecordOf,
  recordOf,
  snapshotOfProof,
  parseLetheConfig,
  type PrivacyRequestInput,
  type RequestSnapshot,
  type Subject,
} from '../../src/domain';

const SUBJECT: Required<Subject> = {
  email: 'ada.subject@example.com',
  phone: '+15550199',
  custom_id: 'cust-ada-77',
  advertising_id: 'ad-3f9e1c0b',
  name: 'Ada Subject',
};
const CRM = {
  id: 'crm',
  name: 'CRM',
  type: 'api',
  connector: 'http',
  options: { base_url: 'http://127.0.0.1:4010', find: { path: '/contacts', records_path: 'data' } },
};
const WAREHOUSE = {
  id: 'warehouse',
  name: 'Warehouse',
  type: 'direct_contact',
  owner: { name: 'Dana', email: 'dana@example.com' },
};
const PURGED_AT = '2027-02-01T00:00:00.000Z';

function snapshot(type: PrivacyRequestInput['type'], change: (s: RequestSnapshot) => void = () => {}) {
  const s = newRequestSnapshot({
    id: 'req_proof',
    type,
    regulation: 'gdpr',
    requestDate: '2027-01-01T00:00:00.000Z',
    triggerType: 'api',
    autoProcess: false,
    subject: SUBJECT,
    integrations: parseLetheConfig({ integrations: [CRM, WAREHOUSE] }).integrations,
  });
  change(s);
  return s;
}

describe('the proof record kept after retention', () => {
  const rows: [string, RequestSnapshot][] = [
    ['a new access request', snapshot('access')],
    [
      'an access request closed and sent, with files uploaded under the subject’s name',
      snapshot('access', (s) => {
        s.step = 'closed';
        s.closedAt = '2027-01-05T00:00:00.000Z';
        s.selection = ['crm', 'warehouse'];
        s.export = { ref: 'req_proof/00000000-0000-0000-0000-000000000000.zip', at: s.closedAt };
        s.integrations[0]!.access = { kind: 'complete', outcome: { kind: 'records_found', count: 3 } };
        s.integrations[1]!.access = { kind: 'complete', outcome: { kind: 'files_uploaded', count: 1 } };
        s.integrations[1]!.uploads = [
          { ref: 'req_proof/11111111-1111-1111-1111-111111111111.bin', name: `${SUBJECT.name}.csv`, size: 9 },
        ];
        s.integrations[1]!.history = [
          { at: s.closedAt, actor: 'key-1a2b', by: 'ops@example.com', action: 'skip', phase: 'access' },
        ];
      }),
    ],
    [
      'a deletion request terminated while deleting',
      snapshot('deletion', (s) => {
        s.step = 'deleting';
        s.integrations[0]!.deletion = { kind: 'error', message: 'Request error', at: PURGED_AT };
      }),
    ],
  ];

  for (const [what, request] of rows) {
    it(`${what}: keeps no field of the subject, and what was done`, () => {
      const proof = proofRecordOf(recordOf(request), PURGED_AT);
      const kept = JSON.stringify(proof);
      assert.ok(!('subject' in proof));
      for (const [field, value] of Object.entries(SUBJECT))
        assert.ok(!kept.includes(value), `the proof holds the subject's ${field}`);
      assert.ok(!kept.includes('req_proof/'), 'no blob keys: the blobs are gone');
      assert.deepEqual(
        { id: proof.id, type: proof.type, regulation: proof.regulation, purgedAt: proof.purgedAt },
        { id: 'req_proof', type: request.type, regulation: 'gdpr', purgedAt: PURGED_AT },
      );
      assert.equal(proof.exportedAt, request.export?.at ?? null);
      assert.deepEqual(
        proof.integrations.map((i) => [i.id, i.access, i.deletion, i.history, i.uploads]),
        request.integrations.map((i) => [i.id, i.access, i.deletion, i.history, i.uploads.length]),
      );
      const view = presentRequest(snapshotOfProof(proof), new Date(PURGED_AT));
      assert.equal(view.purged_at, PURGED_AT);
      assert.equal(view.data_url, null);
      assert.deepEqual(
        view.integrations.map((i) => [i.access, i.deletion]),
        presentRequest(request, new Date(PURGED_AT)).integrations.map((i) => [i.access, i.deletion]),
        'the same states and details as before the purge',
      );
    });
  }
});
