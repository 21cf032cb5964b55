import assert from 'node:assert/strict';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '../../src/infra/payload-codec';
import type { IntegrationWorkflowInput } from '../../src/workflows/integration';
import { FIXTURE_KEYS, loadHistories, replayAgainstCurrentCode } from './fixtures';

/**
 * Histories written by earlier Lethe code (commit f7af01a: a 2-integration deletion request run by
 * the bench), when an integration learnt from a patch marker, not from its input, that its
 * request already showed it submitted; and (request-access-selection, commit 2390ec0) an access
 * request whose selection was answered only once its export was built. Requests in flight across
 * an upgrade must replay.
 * The key encrypts nothing but the bench's sandbox data.
 */
const histories = loadHistories(path.join(__dirname, 'legacy'));

describe('replay of histories written by earlier Lethe code', function () {
  this.timeout(120_000);

  it('the fixtures are what they stand for: integrations with a patch marker and no shownOnStart', async () => {
    const integrations = histories.filter((h) => !h.workflowId.startsWith('request'));
    assert.equal(integrations.length, 4);
    for (const { workflowId, history } of integrations) {
      const events = history.events ?? [];
      const [input] = await new EncryptionCodec(FIXTURE_KEYS).decode(
        events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [],
      );
      const started = defaultPayloadConverter.fromPayload<IntegrationWorkflowInput>(input!);
      assert.equal(started.integration.type, 'api', workflowId);
      assert.equal(started.shownOnStart, undefined, workflowId);
      assert.ok(
        events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch'),
        `${workflowId} has a patch marker`,
      );
    }
  });

  it('the access request’s selection was answered after its export was built', () => {
    const events = histories.find((h) => h.workflowId === 'request-access-selection')?.history.events ?? [];
    const exportDone = events.findIndex(
      (e) =>
        e.activityTaskCompletedEventAttributes &&
        events.find(
          (s) =>
            s.eventId?.toString() === e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString(),
        )?.activityTaskScheduledEventAttributes?.activityType?.name === 'buildExport',
    );
    const answered = events.findIndex((e) => e.workflowExecutionUpdateCompletedEventAttributes);
    assert.ok(exportDone > 0 && answered > exportDone, `export at ${exportDone}, answer at ${answered}`);
  });

  it('replays them against the current workflow code', async () => {
    const { replayed, failures } = await replayAgainstCurrentCode(histories);
    assert.deepEqual(failures, []);
    assert.equal(replayed, 6);
  });
});

/**
 * Direct contacts written by the code before owner links had rounds (commit 2390ec0, the same
 * fixture key): one answered through its link, and one whose owner had not answered yet when the
 * history was taken, as a workflow waiting across an upgrade would be.
 */
describe('replay of direct contacts from before owner links had rounds', function () {
  this.timeout(120_000);
  const ownerHistories = loadHistories(path.join(__dirname, 'legacy-owner'));

  it('replays them against the current workflow code', async () => {
    const { replayed, failures } = await replayAgainstCurrentCode(ownerHistories);
    assert.deepEqual(failures, []);
    assert.equal(replayed, 4);
  });
});
