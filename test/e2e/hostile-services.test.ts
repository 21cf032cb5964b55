import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import type { CallLogEntry } from '../../src/infra/call-log';
import { call } from '../support/http';
import { ECHOED, MANY_PAGES, zipBomb } from '../support/hostile';
import { phaseOf, useStack } from '../support/lethe';
import { BATCH_REST_KEY, CRM_TOKEN } from '../support/stack';

const MB = 1024 * 1024;

describe('hostile services: Lethe trusts nothing it did not make', function () {
  this.timeout(120_000);
  const suite = useStack();

  const errorLog = async (id: string, iid: string): Promise<CallLogEntry[]> => {
    const res = await call(suite.stack.apiUrl, 'GET', `/v1/requests/${id}/integrations/${iid}/error-log`);
    assert.equal(res.status, 200);
    return res.body.entries as CallLogEntry[];
  };
  const untilError = (id: string, iid: string, detail: string, phase: 'access' | 'deletion' = 'access') =>
    suite.lethe.untilIntegration(id, iid, phase, { state: 'Error', detail }, 60_000);

  it('a redirect is refused: neither the secret, nor the subject, nor the other host’s answer goes anywhere', async () => {
    const reachedBefore = suite.stack.hostile.reachedElsewhere.length;
    const email = `redirected-${Date.now()}@example.com`;
    const integrations = ['hostile-redirect-302', 'hostile-redirect-307', 'batch-redirect'];
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email, custom_id: `redirected-${Date.now()}` },
      integrations,
    });
    for (const iid of integrations) await untilError(created.id, iid, 'Lethe error');
    const reached = suite.stack.hostile.reachedElsewhere.slice(reachedBefore);
    assert.deepEqual(
      reached.map((c) => `${c.method} ${c.path} ${JSON.stringify(c.headers)} ${c.body}`),
      [],
      'nothing reached the host the services redirected to',
    );
    for (const iid of integrations) {
      const entries = await errorLog(created.id, iid);
      const refused = entries.find((e) => e.status === 302 || e.status === 307);
      assert.ok(refused, `${iid}: the redirect is in the log: ${JSON.stringify(entries)}`);
      assert.match(refused.error ?? '', /redirect.*refused/i);
      assert.ok(
        !JSON.stringify(entries).includes(CRM_TOKEN) && !JSON.stringify(entries).includes(BATCH_REST_KEY),
      );
    }
  });

  it('a Batch data_url on another origin is not fetched', async () => {
    const reachedBefore = suite.stack.hostile.reachedElsewhere.length;
    const created = await suite.lethe.create({
      type: 'access',
      subject: { custom_id: `foreign-${Date.now()}` },
      integrations: ['batch-foreign'],
    });
    await untilError(created.id, 'batch-foreign', 'Lethe error');
    assert.equal(
      suite.stack.hostile.reachedElsewhere.length,
      reachedBefore,
      'the foreign host was not called',
    );
    const entries = await errorLog(created.id, 'batch-foreign');
    assert.ok(
      entries.some((e) => /not the configured service/.test(e.error ?? '')),
      `the refusal is in the log: ${JSON.stringify(entries)}`,
    );
  });

  it('"." and ".." never collapse a path: a subject’s or a record’s value is refused as a Request error', async () => {
    const seenBefore = suite.stack.hostile.seen.length;
    const dots = await suite.lethe.create({
      type: 'access',
      subject: { custom_id: '..' },
      integrations: ['hostile-paths'],
    });
    await untilError(dots.id, 'hostile-paths', 'Request error');
    assert.deepEqual(
      suite.stack.hostile.seen.slice(seenBefore).map((c) => `${c.method} ${c.path}`),
      [],
      'no call went out with a collapsed path',
    );

    const record = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { custom_id: `tenant-user-${Date.now()}` },
      integrations: ['hostile-paths'],
    });
    await untilError(record.id, 'hostile-paths', 'Request error', 'deletion');
    const request = await suite.lethe.get(record.id);
    assert.deepEqual(phaseOf(request, 'hostile-paths', 'access'), {
      state: 'Complete',
      detail: '1 record found',
    });
    const deletes = suite.stack.hostile.seen.slice(seenBefore).filter((c) => c.method === 'DELETE');
    assert.deepEqual(
      deletes.map((c) => c.path),
      [],
      'no DELETE went out for a record whose id is ".."',
    );
    const entries = await errorLog(record.id, 'hostile-paths');
    assert.ok(
      entries.some((e) => /record\.id/.test(e.error ?? '')),
      JSON.stringify(entries),
    );
  });

  it('an answer larger than the cap, records or a review zip, is an Error, and the other integrations complete', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: `huge-${Date.now()}@example.com`, custom_id: `huge-${Date.now()}` },
      integrations: ['hostile-huge', 'batch-huge', 'crm'],
    });
    for (const iid of ['hostile-huge', 'batch-huge']) {
      await untilError(created.id, iid, 'Lethe error');
      const entries = await errorLog(created.id, iid);
      assert.ok(
        entries.some((e) => /larger than 32 MB/.test(e.error ?? '')),
        `${iid}: the cap is in the log: ${JSON.stringify(entries)}`,
      );
    }
    await suite.lethe.untilIntegration(created.id, 'crm', 'access', {
      state: 'Complete',
      detail: 'No records found',
    });
  });

  it('200 MB of records over 200 pages go to the blob store and into the export page by page: the worker’s memory stays bounded', async () => {
    const expected = MANY_PAGES.pages * MANY_PAGES.perPage;
    const megabytes = Math.round((expected * MANY_PAGES.recordBytes) / MB);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampling = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const created = await suite.lethe.create({
      type: 'portability',
      auto_process: true,
      subject: { email: `many-pages-${Date.now()}@example.com` },
      integrations: ['hostile-many-pages'],
    });
    const request = await suite.lethe.until(
      created.id,
      (r) => r.closed && r.data_url !== null,
      'the export',
      90_000,
    );
    clearInterval(sampling);
    assert.deepEqual(phaseOf(request, 'hostile-many-pages', 'access'), {
      state: 'Complete',
      detail: `${expected} records found`,
    });
    console.log(
      `      ${megabytes} MB of records in ${MANY_PAGES.pages} pages, found and exported: worker RSS ${Math.round(rssBefore / MB)} MB before, peak ${Math.round(rssPeak / MB)} MB`,
    );
    assert.ok(rssPeak - rssBefore < 150 * MB, `RSS grew by ${Math.round((rssPeak - rssBefore) / MB)} MB`);
    // The export holds every record: its CSV, counted as it downloads, has one line per record.
    const folder = await mkdtemp(path.join(os.tmpdir(), 'lethe-export-'));
    try {
      const file = path.join(folder, 'export.zip');
      const res = await fetch(request.data_url!);
      assert.equal(res.status, 200);
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(file));
      const zip = await yauzl.openPromise(file, { lazyEntries: true });
      let lines = 0;
      for await (const entry of zip.eachEntry()) {
        if (entry.fileName !== 'integrations/hostile-many-pages/records.csv') continue;
        for await (const chunk of await zip.openReadStreamPromise(entry))
          lines += (chunk as Buffer).toString('latin1').split('\n').length - 1;
      }
      zip.close();
      assert.equal(lines, expected + 1, 'a header and one line per record');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('zip bombs, honest or lying about their sizes, end in Error; the worker’s memory stays bounded and the others complete', async () => {
    suite.stack.hostile.bombs = {
      honest: await zipBomb(4, 256),
      // Declares 1 KB per entry: only counting while inflating catches it.
      liar: await zipBomb(4, 256, 1024),
    };
    const sizes = `${suite.stack.hostile.bombs.honest!.length} and ${suite.stack.hostile.bombs.liar!.length} bytes`;
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const created = await suite.lethe.create({
      type: 'access',
      subject: { custom_id: 'jane.doe', email: `bombed-${Date.now()}@example.com` },
      integrations: ['batch-bomb', 'batch-liar', 'batch', 'crm'],
    });
    await untilError(created.id, 'batch-bomb', 'Lethe error');
    await untilError(created.id, 'batch-liar', 'Lethe error');
    const request = await suite.lethe.until(
      created.id,
      (r) =>
        phaseOf(r, 'batch', 'access')?.state === 'Complete' &&
        phaseOf(r, 'crm', 'access')?.state === 'Complete',
      'the other integrations to complete',
      60_000,
    );
    assert.deepEqual(phaseOf(request, 'batch', 'access'), { state: 'Complete', detail: '4 records found' });
    const rssAfter = process.memoryUsage().rss;
    console.log(
      `      zip bombs of ${sizes} (4 × 256 MB inflated each): worker RSS ${Math.round(rssBefore / MB)} MB before, ${Math.round(rssAfter / MB)} MB after`,
    );
    assert.ok(rssAfter - rssBefore < 200 * MB, `RSS grew by ${Math.round((rssAfter - rssBefore) / MB)} MB`);
    const honest = await errorLog(created.id, 'batch-bomb');
    assert.ok(
      honest.some((e) => /zip .*(uncompressed|entries)/.test(e.error ?? '')),
      `the honest bomb is refused before inflating: ${JSON.stringify(honest)}`,
    );
    const liar = await errorLog(created.id, 'batch-liar');
    assert.ok(
      liar.some((e) => /zip/.test(e.error ?? '')),
      `the lying bomb is stopped while inflating: ${JSON.stringify(liar)}`,
    );
    suite.stack.hostile.bombs = {};
  });

  it('the call log keeps no body of a success, and nothing of the subject in a failed answer’s excerpt', async () => {
    const email = 'jane.doe@example.com';
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email, name: 'Jane Doe' },
      integrations: ['hostile-echo-json', 'hostile-echo-text', 'crm'],
    });
    await untilError(created.id, 'hostile-echo-json', 'Request error');
    await untilError(created.id, 'hostile-echo-text', 'Internal Server Error');
    const json = await errorLog(created.id, 'hostile-echo-json');
    const text = await errorLog(created.id, 'hostile-echo-text');
    const logged = JSON.stringify([json, text]).toLowerCase();
    for (const secret of [email, 'jane doe', 'jane', ECHOED.address, '75002', ECHOED.phone, '612345678']) {
      assert.ok(!logged.includes(secret.toLowerCase()), `"${secret}" is not in the log: ${logged}`);
    }
    assert.match(json[0]?.excerpt ?? '', /INVALID_USER/, 'the error code stays');
    assert.match(json[0]?.excerpt ?? '', /"address"/, 'the keys stay');
    assert.match(text[0]?.excerpt ?? '', /Internal error for/);

    await suite.lethe.untilIntegration(created.id, 'crm', 'access', {
      state: 'Complete',
      detail: '3 records found',
    });
    const crm = await errorLog(created.id, 'crm');
    assert.ok(crm.length > 0);
    for (const entry of crm) {
      assert.equal(entry.excerpt, null, 'no body of a successful call');
      assert.equal(entry.status, 200);
      assert.equal(typeof entry.bytes, 'number');
      assert.equal(typeof entry.duration_ms, 'number');
    }
  });

  it('a subject without the identifier Batch needs: the error log says which one', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: `no-custom-id-${Date.now()}@example.com` },
      integrations: ['batch'],
    });
    await untilError(created.id, 'batch', 'Request error');
    const entries = await errorLog(created.id, 'batch');
    assert.ok(
      entries.some(
        (e) => e.error === 'Request error: the subject has no custom_id, which this integration needs',
      ),
      JSON.stringify(entries),
    );
  });
});
