// Innsyn in a real browser (P9, X3): a doctor without a care relationship is refused, takes
// emergency access and reads the patient's record; the patient opens «who has seen my data»
// and sees both, the emergency access marked, and the page's own script (/static/innsyn.js,
// WebCrypto) reports every proof and the signed head as checked; a changed leaf is reported
// as a failure; the page of everything held and the log pass axe-core.
// Run through tests/browser/run.mjs, which starts the mock ID-porten and the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeViolations, env, inviteAndEnrol, mainText, openBrowser, pickTestPerson, runAxe } from './lib.mjs';

const E = env();
const LIMIT = { timeout: 45_000 };
const PATIENT_ID = process.env.BROWSER_PATIENT_ID;
const LOG = `${E.base}/k/${E.clinic}/innsyn/logg`;
const DOCTOR = 'Nora Nødlege';

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

/** Waits until the script has checked every proof; returns the status text. */
async function checked(page) {
  await page.locator('#bevis[data-resultat]').waitFor({ state: 'attached', timeout: 15_000 });
  return (await page.locator('#bevis-status').innerText()).trim();
}

test('P9 X3: the patient sees a normal and an emergency access, and the page checks every proof itself', LIMIT, async (t) => {
  assert.ok(PATIENT_ID, 'BROWSER_PATIENT_ID is set by run.mjs');
  // The doctor: no care relationship, so refused; then emergency access, and the record read.
  const doc = await openBrowser();
  t.after(() => doc.close());
  await inviteAndEnrol(doc, DOCTOR, 'lege');
  await doc.page.goto(`${E.base}/k/${E.clinic}/ansatt/pasient/${PATIENT_ID}`);
  await doc.page.getByRole('heading', { name: 'Ingen behandlingsrelasjon' }).waitFor();
  await doc.page.getByLabel('Begrunnelse').fill('Bevisstløs pasient på legevakten, trenger medisinlisten');
  await doc.page.getByRole('button', { name: 'Be om nødtilgang' }).click();
  await doc.page.getByRole('heading', { name: E.patient.name, level: 1 }).waitFor();

  // The patient logs in and opens the log from the portal.
  const b = await openBrowser();
  t.after(() => b.close());
  await b.page.goto(E.portal);
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  await pickTestPerson(b.page, E.patient.fnr);
  await b.page.getByText(`Du er logget inn som ${E.patient.name}`).waitFor();
  await b.page.getByRole('link', { name: 'Se hvem som har sett opplysningene dine' }).click();
  await b.page.getByRole('heading', { name: 'Hvem har sett opplysningene dine', level: 1 }).waitFor();
  const status = await checked(b.page);
  const rows = await b.page.locator('#logg tbody tr').count();
  assert.ok(rows >= 4, `${rows} rows`);
  assert.match(status, new RegExp(`^Alle ${rows} bevis er kontrollert i nettleseren`), status);
  assert.match(status, /Nettleseren har også kontrollert klinikkens signatur på loggen\./, status);
  const cells = await b.page.locator('#logg td.bevis').allInnerTexts();
  assert.deepEqual([...new Set(cells.map((c) => c.trim()))], ['Bevis kontrollert']);
  assert.equal(await b.page.getByText('Nødtilgang', { exact: true }).count(), 1, 'the emergency access is marked once');
  const emergencyRow = b.page.locator('#logg tbody tr', { has: b.page.locator('.nodtilgang') });
  const emergencyText = (await emergencyRow.innerText()).replace(/\s+/g, ' ');
  assert.match(emergencyText, new RegExp(DOCTOR));
  assert.match(emergencyText, /Lege/);
  assert.match(emergencyText, new RegExp(`org\\.nr\\. ${E.clinic}`));
  const text = await mainText(b.page);
  assert.match(text, /Forsøkte å åpne opplysningene dine, men ble avvist/);
  assert.match(text, /Åpnet opplysningene dine/);
  await assertAccessible(b.page, 'the access log');
  assert.deepEqual(b.cspErrors, [], 'the script runs under the page\'s own Content-Security-Policy');

  // Everything held, from the log's link.
  await b.page.getByRole('link', { name: 'Se alt klinikken har lagret om deg' }).click();
  await b.page.getByRole('heading', { name: 'Alt klinikken har lagret om deg', level: 1 }).waitFor();
  assert.match(await mainText(b.page), new RegExp(E.patient.name));
  assert.match(await mainText(b.page), /Ikke lagre filen på en PC eller telefon som andre bruker/);
  await assertAccessible(b.page, 'everything held');

  // A changed leaf: the script reports that proof as failed (the server's page, one byte off).
  await b.page.route(LOG, async (route) => {
    const response = await route.fetch();
    let html = await response.text();
    html = html.replace(/data-blad="([^"]{40})(.)/, (_, head, c) => `data-blad="${head}${c === 'A' ? 'B' : 'A'}`);
    await route.fulfill({ response, body: html });
  });
  await b.page.goto(LOG);
  const tampered = await checked(b.page);
  assert.match(tampered, /^1 av \d+ bevis stemmer ikke\. Kontakt klinikken\./, tampered);
  assert.equal((await b.page.locator('#logg tbody tr').first().locator('td.bevis').innerText()).trim(), 'Beviset stemmer ikke');
  assert.equal(await b.page.locator('#bevis').getAttribute('data-resultat'), 'feil');
  await b.page.unroute(LOG);
});
