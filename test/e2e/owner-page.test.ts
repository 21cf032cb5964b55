import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import type { Browser } from 'playwright-core';
import { exportLinker } from '../../src/api/export-link';
import { launchBrowser } from '../support/browser';
import { call } from '../support/http';
import { ownerLinkIn, phaseOf, useStack } from '../support/lethe';

/** Screenshots of the pages, for people to look at (git-ignored). */
const SCREENSHOTS = path.resolve('.test-data/screenshots');

describe('the owner answers in a real browser, from the link in the real email', function () {
  this.timeout(90_000);
  const suite = useStack();
  let browser: Browser;
  let scratch: string;

  before(async function () {
    this.timeout(60_000);
    browser = await launchBrowser();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-upload-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('access: the page says what is asked; one file uploaded is Complete / 1 file uploaded, and it is in the export', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'ada.browser@example.com', name: 'Ada Browser' },
      integrations: ['warehouse'],
    });
    const mail = await suite.lethe.ownerMail(created.id, 'dana.owner@example.com');
    assert.match(mail.html ?? '', /<a href="http/, 'the email has an HTML body with the link');
    const page = await browser.newPage();
    const opened = await page.goto(ownerLinkIn(mail.text));
    assert.equal(opened?.status(), 200);
    assert.equal(await page.locator('h1').innerText(), 'Data access request');
    const facts = await page.locator('main').innerText();
    assert.match(facts, /ada\.browser@example\.com/);
    assert.match(facts, /Ada Browser/);
    assert.match(facts, /Data Warehouse/);
    assert.match(facts, /Please answer by/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'owner-access-form.png'), fullPage: true });

    const upload = path.join(scratch, 'orders é.csv');
    writeFileSync(upload, 'order,total\n1001,42.00\n');
    await page.getByLabel(/Files with the data you hold/).setInputFiles(upload);
    await page.getByRole('button', { name: 'Send the files' }).click();
    await page.waitForSelector('text=Thank you');
    assert.match(await page.locator('[role=status]').innerText(), /1 file uploaded/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'owner-access-done.png'), fullPage: true });

    const request = await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Complete',
      detail: '1 file uploaded',
    });

    // The subject's link needs no API key.
    const download = await fetch(request.data_url!);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/zip');
    const zip = await JSZip.loadAsync(await download.arrayBuffer());
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    assert.equal(manifest.request.id, created.id);
    assert.deepEqual(
      manifest.integrations.map((i: { id: string; detail: string; files: number }) => [
        i.id,
        i.detail,
        i.files,
      ]),
      [['warehouse', '1 file uploaded', 1]],
    );
    const stored = zip.file(/^integrations\/warehouse\/files\//);
    assert.equal(stored.length, 1);
    assert.equal(
      stored[0]!.name,
      'integrations/warehouse/files/01-orders_.csv',
      'a safe name inside the zip',
    );
    assert.equal(await stored[0]!.async('string'), 'order,total\n1001,42.00\n');

    // A second visit: the page says it is answered, and a second answer changes nothing.
    const again = await page.goto(ownerLinkIn(mail.text));
    assert.equal(again?.status(), 409);
    assert.match(await page.locator('main').innerText(), /no longer waits for an answer/);
    await page.close();
  });

  it('deletion: the three answers in the contract’s words; "Yes, we have deleted…" is Complete / Deletion done', async () => {
    const created = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { email: 'bob.browser@example.com' },
      integrations: ['dc-full'],
    });
    const mail = await suite.lethe.ownerMail(created.id, 'dc-full.owner@example.com', 'deletion');
    const page = await browser.newPage();
    await page.goto(ownerLinkIn(mail.text));
    assert.equal(await page.locator('h1').innerText(), 'Data deletion request');
    const answers = await page
      .getByRole('radio')
      .evaluateAll((radios) => radios.map((r) => (r.parentElement?.textContent ?? '').trim()));
    assert.deepEqual(answers, [
      'Yes, we have deleted any applicable data belonging to the data subject',
      'No, we do not hold personal data about the data subject',
      'No, we could not delete data for the data subject',
    ]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'owner-deletion-form.png'), fullPage: true });
    await page.getByLabel('Yes, we have deleted any applicable data belonging to the data subject').check();
    await page.getByRole('button', { name: 'Send the answer' }).click();
    await page.waitForSelector('text=Thank you');
    await page.close();

    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'dc-full', 'deletion'), { state: 'Complete', detail: 'Deletion done' });
    assert.equal(request.data_url, null, 'a deletion request sends no package');
  });

  it('a forged or expired link, and an empty upload, get a clear page with the right status', async () => {
    const page = await browser.newPage();
    const forged = await page.goto(`${suite.stack.apiUrl}/owner/bm90LWEtdG9rZW4.c2lnbmF0dXJl`);
    assert.equal(forged?.status(), 403);
    assert.equal(await page.locator('h1').innerText(), 'This link is not valid');
    await page.close();

    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'empty.upload@example.com' },
      integrations: ['warehouse'],
    });
    const link = ownerLinkIn((await suite.lethe.ownerMail(created.id, 'dana.owner@example.com')).text);
    const form = new FormData();
    form.set('answer', 'files');
    const empty = await fetch(link, { method: 'POST', body: form, headers: { Accept: 'text/html' } });
    assert.equal(empty.status, 400);
    assert.match(await empty.text(), /Choose at least one file/);
    const tooMany = new FormData();
    tooMany.set('answer', 'files');
    for (let i = 0; i < 21; i++) tooMany.append('files', new Blob(['x']), `f${i}.txt`);
    const refused = await fetch(link, { method: 'POST', body: tooMany });
    assert.equal(refused.status, 413);
    assert.match(await refused.text(), /At most 20 files/);
    const big = new FormData();
    big.set('answer', 'files');
    big.append('files', new Blob([Buffer.alloc(10 * 1024 * 1024 + 1)]), 'big.bin');
    const tooBig = await fetch(link, { method: 'POST', body: big });
    assert.equal(tooBig.status, 413);
    assert.match(await tooBig.text(), /larger than 10 MB/);
    const view = await suite.lethe.get(created.id);
    assert.deepEqual(phaseOf(view, 'warehouse', 'access'), { state: 'Processing', detail: 'Due in 14 days' });

    const noData = await fetch(link, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'answer=no_data',
    });
    assert.equal(noData.status, 200);
    assert.match(await noData.text(), /No files uploaded/);
  });
});

describe('the export package', function () {
  this.timeout(60_000);
  const suite = useStack();

  it('portability: records as JSON and CSV per integration, owner files, and a manifest; the API key route gives the same zip', async () => {
    const created = await suite.lethe.create({
      type: 'portability',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm', 'crm-keep'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    const withKey = await fetch(`${suite.stack.apiUrl}/v1/requests/${created.id}/export`, {
      headers: { 'X-Authorization': 'test-key' },
    });
    assert.equal(withKey.status, 200);
    const zipped = Buffer.from(await withKey.arrayBuffer());
    const viaLink = Buffer.from(await (await fetch(request.data_url!)).arrayBuffer());
    assert.ok(zipped.equals(viaLink), 'the same package');
    const zip = await JSZip.loadAsync(zipped);
    const records = JSON.parse(await zip.file('integrations/crm/records.json')!.async('string'));
    assert.equal(records.length, 3);
    const csv = await zip.file('integrations/crm/records.csv')!.async('string');
    assert.equal(csv.trim().split('\r\n').length, 4, 'a header and three rows');
    assert.match(csv.split('\r\n')[0]!, /^id,email/);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    assert.equal(manifest.request.type, 'portability');
    assert.ok(manifest.request.closed_at);
    assert.deepEqual(
      manifest.integrations.map((i: { id: string; records: number }) => [i.id, i.records]),
      [
        ['crm', 3],
        ['crm-keep', 3],
      ],
    );
  });

  it('access_categories: the categories held, not the data', async () => {
    const created = await suite.lethe.create({
      type: 'access_categories',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    const zip = await JSZip.loadAsync(await (await fetch(request.data_url!)).arrayBuffer());
    assert.equal(zip.file(/records/).length, 0, 'no records in the package');
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    assert.deepEqual(manifest.integrations[0].categories, ['contact details', 'support tickets']);
  });

  it('an export before the request is sent, or of a deletion, is a 409; a forged link a 403', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm'],
    });
    const early = await call(suite.stack.apiUrl, 'GET', `/v1/requests/${created.id}/export`);
    assert.equal(early.status, 409);
    assert.equal(early.body.error.name, 'INVALID_STATE');
    const forged = await call(suite.stack.apiUrl, 'GET', '/exports/eyJyIjoicmVxX3gifQ.AAAA', { key: null });
    assert.equal(forged.status, 403);
  });

  it('a data_url older than its expiry (7 days) answers 410, and a fresh one for the same request works', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm'],
    });
    await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    const link = exportLinker(suite.stack.apiUrl, suite.stack.environment.tokenSecrets, '7d');
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000).toISOString();
    const expired = await call(link(created.id, eightDaysAgo), 'GET', '', { key: null });
    assert.equal(expired.status, 410);
    assert.match(expired.body.error.message, /expired/);
    const sixDaysAgo = new Date(Date.now() - 6 * 86_400_000).toISOString();
    assert.equal((await fetch(link(created.id, sixDaysAgo))).status, 200);
  });
});
