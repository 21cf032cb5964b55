import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { integrationWorkflowId } from '../../src/workflows/definitions';
import { call, eventually } from '../support/http';
import { LetheApi, ownerLinkIn, phaseOf, useStack } from '../support/lethe';
import { getStack } from '../support/stack';

const MB = 1024 * 1024;

/**
 * A multipart answer written as it is sent, from one reused chunk: the test's own memory stays
 * flat, so the process's RSS (the API runs in it) measures what the API keeps.
 */
function postFiles(
  link: string,
  files: { count: number; bytes: number },
  accept = 'application/json',
): Promise<{ status: number; body: string }> {
  const boundary = `lethe-test-${randomUUID()}`;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((resolve, reject) => {
    const req = http.request(
      link,
      {
        method: 'POST',
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, Accept: accept },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      },
    );
    req.on('error', reject);
    const write = (data: string | Buffer) =>
      new Promise<void>((resolve) => {
        if (req.destroyed || req.write(data)) return resolve();
        const done = () => {
          req.off('drain', done).off('close', done);
          resolve();
        };
        req.on('drain', done).on('close', done);
      });
    void (async () => {
      await write(`--${boundary}\r\nContent-Disposition: form-data; name="answer"\r\n\r\nfiles\r\n`);
      for (let f = 0; f < files.count && !req.destroyed; f++) {
        await write(
          `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="f${f}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        );
        for (let sent = 0; sent < files.bytes && !req.destroyed; sent += chunk.length) {
          await write(chunk.subarray(0, Math.min(chunk.length, files.bytes - sent)));
        }
        await write('\r\n');
      }
      if (!req.destroyed) req.end(`--${boundary}--\r\n`);
    })();
  });
}

describe('owner links: one answer per link, at a bounded cost', function () {
  this.timeout(120_000);
  const suite = useStack();
  const blobsOf = (requestId: string) => {
    const folder = path.join(suite.stack.dataDir, 'blobs', requestId);
    // Every file, half-written ones too.
    return existsSync(folder) ? readdirSync(folder) : [];
  };

  it('a flood of large uploads with a valid link: RSS stays bounded, other routes answer fast, one answer is taken and nothing else is kept', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'flood@example.com' },
      integrations: ['warehouse'],
    });
    const link = ownerLinkIn((await suite.lethe.ownerMail(created.id, 'dana.owner@example.com')).text);

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
    let slowest = 0;
    let flooding = true;
    const probes = (async () => {
      while (flooding) {
        for (const path of ['/healthz', `/v1/requests/${created.id}`]) {
          const started = performance.now();
          const res = await call(suite.stack.apiUrl, 'GET', path);
          assert.equal(res.status, 200, path);
          slowest = Math.max(slowest, performance.now() - started);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => postFiles(link, { count: 8, bytes: 10 * MB })),
    );
    const seconds = (performance.now() - started) / 1000;
    flooding = false;
    await probes;
    clearInterval(sampler);
    const growthMb = (peak - baseline) / MB;
    console.log(
      `      6 uploads of 8 × 10 MB in ${seconds.toFixed(1)} s: RSS ${Math.round(baseline / MB)} MB before, ` +
        `${Math.round(peak / MB)} MB at the peak (+${Math.round(growthMb)} MB); slowest other call ${Math.round(slowest)} ms`,
    );

    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409], JSON.stringify(answers.map((a) => a.body)));
    assert.ok(growthMb < 150, `the API held ${Math.round(growthMb)} MB more at the peak`);
    assert.ok(slowest < 2000, `another route took ${Math.round(slowest)} ms during the flood`);

    const request = await suite.lethe.get(created.id);
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Complete',
      detail: '8 files uploaded',
    });
    assert.equal(blobsOf(created.id).length, 8, 'only the answer taken is kept');

    // Answered: the link is refused before its body is read.
    const late = await postFiles(link, { count: 1, bytes: 1024 });
    assert.equal(late.status, 409);
    assert.equal(blobsOf(created.id).length, 8);
  });

  it('an operator’s retry sends a new link, and the old one is refused as replaced (410)', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'retried-owner@example.com' },
      integrations: ['warehouse'],
    });
    const first = ownerLinkIn((await suite.lethe.ownerMail(created.id, 'dana.owner@example.com')).text);
    // The integration's workflow fails outright (terminated from the Web UI, say): the operator retries.
    await suite.stack.client.workflow
      .getHandle(integrationWorkflowId(created.id, 'warehouse', 'access'))
      .terminate('test: the integration fails');
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Error',
      detail: 'Lethe error',
    });
    const retried = await suite.lethe.post(`/v1/requests/${created.id}/integrations/warehouse/retry`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    const mails = await eventually(
      async () => suite.stack.smtp.inbox.filter((m) => m.subject.includes(created.id)),
      (found) => found.length === 2,
      { what: 'the second email' },
    );
    const second = ownerLinkIn(mails[1]!.text);
    assert.notEqual(second, first);
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });

    const oldPage = await fetch(first, { headers: { Accept: 'text/html' } });
    assert.equal(oldPage.status, 410);
    assert.match(await oldPage.text(), /<h1>This link was replaced by a newer one<\/h1>/);
    const oldAnswer = await call(new URL(first).origin, 'POST', new URL(first).pathname, {
      body: { answer: 'no_data' },
      key: null,
    });
    assert.equal(oldAnswer.status, 410);
    assert.match(oldAnswer.body.error.message, /replaced by a newer one/);
    const oldUpload = await postFiles(first, { count: 1, bytes: 1024 });
    assert.equal(oldUpload.status, 410);
    assert.deepEqual(blobsOf(created.id), [], 'nothing from the old link is kept');

    const answer = await call(new URL(second).origin, 'POST', new URL(second).pathname, {
      body: { answer: 'no_data' },
      key: null,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.status, { state: 'Complete', detail: 'No files uploaded' });
  });

  it('too many files, or a file too large, each get a page that says so', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'many-files@example.com' },
      integrations: ['warehouse'],
    });
    const link = ownerLinkIn((await suite.lethe.ownerMail(created.id, 'dana.owner@example.com')).text);
    const tooMany = await postFiles(link, { count: 21, bytes: 10 }, 'text/html');
    assert.equal(tooMany.status, 413);
    assert.match(tooMany.body, /<h1>Too many files<\/h1>/);
    assert.match(tooMany.body, /At most 20 files/);
    const tooLarge = await postFiles(link, { count: 1, bytes: 10 * MB + 1 }, 'text/html');
    assert.equal(tooLarge.status, 413);
    assert.match(tooLarge.body, /<h1>These files are too large<\/h1>/);
    assert.match(tooLarge.body, /larger than 10 MB/);
    assert.deepEqual(blobsOf(created.id), [], 'refused uploads leave nothing behind');
  });

  it('an upload the owner abandons half-way leaves nothing behind, and the link still takes an answer', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'abandoned-upload@example.com' },
      integrations: ['warehouse'],
    });
    const link = ownerLinkIn((await suite.lethe.ownerMail(created.id, 'dana.owner@example.com')).text);
    const boundary = `lethe-test-${randomUUID()}`;
    const req = http.request(link, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    });
    req.on('error', () => undefined);
    req.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="answer"\r\n\r\nfiles\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="half.bin"\r\n\r\n`,
    );
    req.write(Buffer.alloc(4 * MB, 0x62));
    await eventually(
      async () => blobsOf(created.id).length,
      (files) => files > 0,
      { what: 'the upload to reach the blob store' },
    );
    req.destroy();
    await eventually(
      async () => blobsOf(created.id),
      (files) => files.length === 0,
      { what: 'the half-written blob to be removed' },
    );
    const answer = await postFiles(link, { count: 1, bytes: 1024 });
    assert.equal(answer.status, 200, answer.body);
    assert.equal(blobsOf(created.id).length, 1);
  });

  it('a JSON body is small unless it may carry files: a deletion answer of 100 kB is refused', async () => {
    const created = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { email: 'json-limit@example.com' },
      integrations: ['dc-full'],
    });
    const link = new URL(
      ownerLinkIn((await suite.lethe.ownerMail(created.id, 'dc-full.owner@example.com', 'deletion')).text),
    );
    const padded = await call(link.origin, 'POST', link.pathname, {
      rawBody: JSON.stringify({ answer: 'deleted', padding: 'x'.repeat(100 * 1024) }),
      headers: { 'Content-Type': 'application/json' },
      key: null,
    });
    assert.equal(padded.status, 413);
    const answered = await call(link.origin, 'POST', link.pathname, {
      body: { answer: 'deleted' },
      key: null,
    });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
  });
});

describe('owner links: the reminder carries the first email’s link (time-skipping server)', function () {
  this.timeout(120_000);

  it('one round, one credential: the reminder’s link is the first email’s', async () => {
    const stack = await getStack('time-skipping');
    const lethe = new LetheApi(stack);
    const created = await lethe.create({
      type: 'access',
      subject: { email: 'reminded-owner@example.com' },
      integrations: ['days-pause'],
    });
    const first = ownerLinkIn((await lethe.ownerMail(created.id, 'days-pause.owner@example.com')).text);
    await stack.temporal.sleep('12 days');
    const reminder = await eventually(
      async () =>
        stack.smtp.inbox.find((m) => m.subject.includes(created.id) && m.subject.includes('Reminder')),
      (found) => found !== undefined,
      { what: 'the reminder' },
    );
    assert.equal(ownerLinkIn(reminder!.text), first);
    const answered = await call(new URL(first).origin, 'POST', new URL(first).pathname, {
      body: { answer: 'no_data' },
      key: null,
    });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
  });
});
