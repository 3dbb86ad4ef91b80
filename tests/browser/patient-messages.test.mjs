// The patient's messages in a real browser (issue 4; P2, P3, P5, P10): a patient writes with an
// image, sees it inline, a second tab of theirs sees the thread move without reloading (the live
// channel), every page passes axe-core, and after logout nothing of the messages is left in
// localStorage, IndexedDB, Cache Storage or the profile on disk.
// Run through tests/browser/run.mjs, which starts the mock ID-porten and the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeViolations, env, filesHolding, mainText, openBrowser, pickTestPerson, runAxe } from './lib.mjs';

const E = env();
const LIMIT = { timeout: 30_000 };
const INBOX = `${E.base}/k/${E.clinic}/meldinger`;
// A 1×1 PNG (IHDR, IDAT, IEND): a real image the browser decodes.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
// Unique words, searched for afterwards everywhere the browser could have kept them.
const SUBJECT = `Utslett-${Date.now().toString(36)}`;
const TEXT = `Kløende-merke-${Math.random().toString(36).slice(2)} på armen`;
const ANSWER = `Oppfølging-${Math.random().toString(36).slice(2)}`;

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

async function logIn(b) {
  await b.page.goto(E.portal);
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  await pickTestPerson(b.page, E.patient.fnr);
  await b.page.getByText(`Du er logget inn som ${E.patient.name}`).waitFor();
  await b.page.waitForURL(E.portal);
}

test('P2 P3 P5 P10: a patient writes with an image, sees it inline and the thread moves live; nothing stays in the browser', LIMIT, async (t) => {
  const b = await openBrowser();
  t.after(() => b.close());
  await logIn(b);

  await b.page.getByRole('link', { name: 'Meldinger', exact: true }).click();
  await b.page.getByRole('heading', { name: 'Meldinger', level: 1 }).waitFor();
  await assertAccessible(b.page, 'the inbox');
  await b.page.getByRole('link', { name: 'Ny melding' }).click();
  await b.page.getByRole('heading', { name: 'Ny melding', level: 1 }).waitFor();
  await assertAccessible(b.page, 'choosing the kind of message');

  // The kind first, with what the channel is for and not for (P3).
  await b.page.getByRole('link', { name: 'Skriv: E-konsultasjon' }).click();
  await b.page.getByRole('heading', { name: 'Før du skriver' }).waitFor();
  assert.match(await mainText(b.page), /E-konsultasjon er for spørsmål som ikke haster/);
  await assertAccessible(b.page, 'the new message form');
  for (const field of ['Emne', 'Melding']) {
    assert.equal(await b.page.getByLabel(field, { exact: true }).getAttribute('autocomplete'), 'off', field);
  }

  // A file that is not an image: refused in Norwegian, what was typed is kept.
  await b.page.getByLabel('Emne', { exact: true }).fill(SUBJECT);
  await b.page.getByLabel('Melding', { exact: true }).fill(TEXT);
  await b.page.getByLabel('Vedlegg (valgfritt)').setInputFiles({
    name: 'side.png', mimeType: 'image/png', buffer: Buffer.from('<!doctype html><script>alert(1)</script>'),
  });
  await b.page.getByRole('button', { name: 'Send meldingen' }).click();
  await b.page.getByRole('alert').filter({ hasText: 'Filen inneholder aktivt innhold' }).waitFor();
  assert.equal(await b.page.getByLabel('Melding', { exact: true }).inputValue(), TEXT);
  assert.equal(await b.page.getByLabel('Emne', { exact: true }).inputValue(), SUBJECT);
  await assertAccessible(b.page, 'the form shown again with an error');

  // Now with a real image.
  await b.page.getByLabel('Vedlegg (valgfritt)').setInputFiles({ name: 'arm.png', mimeType: 'image/png', buffer: PNG });
  await b.page.getByRole('button', { name: 'Send meldingen' }).click();
  await b.page.getByRole('heading', { name: SUBJECT, level: 1 }).waitFor();
  const threadUrl = b.page.url();
  assert.match(threadUrl, new RegExp(`/k/${E.clinic}/meldinger/[0-9a-f]{32}$`));
  assert.equal(await b.page.title(), 'Samtale – Fortrolig', 'no subject in the title, which goes into history');
  assert.match(await mainText(b.page), /Ikke lest av klinikken ennå/);
  // The image is shown inline: the browser decoded it.
  const img = b.page.locator('#samtale img');
  await img.waitFor();
  await b.page.waitForFunction(() => document.querySelector('#samtale img')?.naturalWidth === 1);
  await assertAccessible(b.page, 'the thread');

  // Opened alone, it is shown, not downloaded, with the sniffed type in a sandbox.
  const src = new URL(await img.getAttribute('src'), E.base).href;
  const shown = await b.page.goto(src);
  const headers = shown.headers();
  assert.equal(headers['content-type'], 'image/png');
  assert.match(headers['content-disposition'], /^inline/);
  assert.equal(headers['content-security-policy'], "sandbox; default-src 'none'; img-src 'self'");
  assert.equal(headers['cache-control'], 'no-store');
  await b.page.goto(threadUrl);

  // A second tab of the same patient answers; the first sees it without reloading (live).
  const other = await b.context.newPage();
  await other.goto(threadUrl);
  await b.page.bringToFront();
  await b.page.evaluate(() => { window.__sameDocument = true; });
  await other.getByLabel('Melding', { exact: true }).fill(ANSWER);
  await other.getByRole('button', { name: 'Send svaret' }).click();
  await other.getByText(ANSWER).waitFor();
  await b.page.locator('#samtale').getByText(ANSWER).waitFor({ timeout: 10_000 });
  assert.equal(await b.page.evaluate(() => window.__sameDocument), true, 'updated in place, not reloaded');
  await b.page.getByRole('status').filter({ hasText: 'Samtalen er oppdatert.' }).waitFor();
  await other.close();

  // The keyboard reaches the reply form.
  await b.page.getByLabel('Melding', { exact: true }).focus();
  await b.page.keyboard.press('Tab');
  assert.equal(await b.page.evaluate(() => document.activeElement?.id), 'vedlegg');

  await b.page.goto(INBOX);
  assert.match(await mainText(b.page), /E-konsultasjon/);
  await assertAccessible(b.page, 'the inbox with a thread');

  // Notices (P4): the patient chooses SMS; the choice is kept; the page is accessible.
  await b.page.goto(E.portal);
  await b.page.getByRole('link', { name: 'Varsler på SMS og e-post' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Varsler' }).waitFor();
  await assertAccessible(b.page, 'the notice choice');
  await b.page.getByLabel('Varsle meg på SMS').check();
  await b.page.getByRole('button', { name: 'Lagre valget' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Varsler' }).waitFor();
  assert.equal(await b.page.getByLabel('Varsle meg på SMS').isChecked(), true, 'the choice is kept');
  assert.equal(await b.page.getByLabel('Varsle meg på e-post').isChecked(), false);

  // Log out, then look everywhere the browser could have kept the messages (P2).
  await b.page.goto(E.portal);
  await b.page.getByRole('button', { name: 'Logg ut', exact: true }).click();
  await b.page.getByRole('heading', { name: 'Du er logget ut', exact: true }).waitFor();
  await b.page.goto(E.portal);
  const kept = await b.page.evaluate(async () => ({
    local: Object.keys(localStorage).length,
    session: Object.keys(sessionStorage).length,
    indexedDb: (await indexedDB.databases()).map((d) => d.name),
    caches: 'caches' in window ? await caches.keys() : [],
    workers: (await navigator.serviceWorker.getRegistrations()).length,
  }));
  assert.deepEqual(kept, { local: 0, session: 0, indexedDb: [], caches: [], workers: 0 });
  // The HTTP cache, cookies and everything else in the profile directory on disk.
  // (run.mjs keeps every browser profile of the run under BROWSER_TMP; the tests run one by one.)
  for (const needle of [TEXT, ANSWER, SUBJECT]) {
    const holding = filesHolding(process.env.BROWSER_TMP, needle);
    assert.deepEqual(holding, [], `«${needle}» is kept by the browser in ${holding.join(', ')}`);
  }
  // An attachment opened alone is the browser's own image viewer, whose inline styles the
  // sandbox policy blocks (the image is shown all the same); our pages have no violations.
  const ours = b.cspErrors.filter((e) => !(e.includes('/vedlegg/') && e.includes('inline style')));
  assert.deepEqual(ours, [], 'the pages work under their own Content-Security-Policy');
});
