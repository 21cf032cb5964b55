import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { encryptedDataConverter, parseEncryptionKeys } from '../../src/infra/payload-codec';
import { workflowBundle } from '../support/stack';

/**
 * A request purged by earlier Lethe code (commit 2390ec0, before the proof record): an access
 * request to the sandbox CRM, run to the end of its retention on the time-skipping server. Its
 * workflow published the snapshot and returned it; the current code, behind
 * wf.patched('forget-keeps-proof'), must replay it unchanged. The keys encrypt only sandbox data.
 */
const KEYS = parseEncryptionKeys(
  'test-2:0AP+VRVP/epAFJjQeS6CJFk6RdM8OZejfAnWxPvdYL4=,test-1:2n+lEvPHVIahEFC+ioP1uEst/IWv4Lw5s7kgp87FMKs=',
);
const history = temporal.api.history.v1.History.decode(
  readFileSync(path.join(__dirname, 'legacy-purged', 'request.binpb')),
);

describe('replay of a request purged by code from before the proof record', function () {
  this.timeout(120_000);

  it('the fixture is what it stands for: purged, completed, without the new patch marker', () => {
    const events = history.events ?? [];
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
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: await workflowBundle(), dataConverter: encryptedDataConverter(KEYS) },
      [{ workflowId: 'purged-request', history }],
    ))
      results.push(result);
    assert.equal(results.length, 1);
    assert.equal(results[0]!.error, undefined, String(results[0]!.error));
  });
});
