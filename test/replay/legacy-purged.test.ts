import assert from 'node:assert/strict';
import path from 'node:path';
import { parseEncryptionKeys } from '../../src/infra/payload-codec';
import { loadHistories, replayAgainstCurrentCode } from './fixtures';

/**
 * A request purged by earlier Lethe code (commit 2390ec0, before the proof record): an access
 * request to the sandbox CRM, run to the end of its retention on the time-skipping server. Its
 * workflow published the snapshot and returned it; the current code, behind
 * wf.patched('forget-keeps-proof'), must replay it unchanged. The keys encrypt only sandbox data.
 */
const KEYS = parseEncryptionKeys(
  'test-2:0AP+VRVP/epAFJjQeS6CJFk6RdM8OZejfAnWxPvdYL4=,test-1:2n+lEvPHVIahEFC+ioP1uEst/IWv4Lw5s7kgp87FMKs=',
);
const histories = loadHistories(path.join(__dirname, 'legacy-purged'));

describe('replay of a request purged by code from before the proof record', function () {
  this.timeout(120_000);

  it('the fixture is what it stands for: purged, completed, without the new patch marker', () => {
    assert.equal(histories.length, 1);
    const events = histories[0]!.history.events ?? [];
    assert.ok(
      events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'purgeRequestData'),
    );
    assert.ok(events.at(-1)?.workflowExecutionCompletedEventAttributes);
    const markers = events.flatMap(
      (e) => e.markerRecordedEventAttributes?.details?.patch_data?.payloads ?? [],
    );
    assert.ok(
      !markers.some((p) =>
        Buffer.from(p.data ?? [])
          .toString()
          .includes('forget-keeps-proof'),
      ),
    );
  });

  it('replays against the current workflow code', async () => {
    const { replayed, failures } = await replayAgainstCurrentCode(histories, KEYS);
    assert.deepEqual(failures, []);
    assert.equal(replayed, 1);
  });
});
