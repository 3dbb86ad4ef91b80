// Recall offers a draft incident, in a real browser (issue 4 item 7; S7, C4, P10): a doctor who
// enrolled a passkey starts a conversation with a patient confirmed by name and birth date, recalls
// the message before it is read, follows the notice's link to the draft, is refused without a risk
// (what was typed is kept), registers it at medium risk with the 72-hour deadline shown, and records
// that it was reported. The assessment's choices are made with the keyboard. axe-core on every page.
// Run through tests/browser/run.mjs, which starts the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  clinicSql, describeViolations, env, fortroligCommand, inviteAndEnrol, mainText, openBrowser, runAxe, storageArgs,
} from './lib.mjs';

const E = env();
const LIMIT = { timeout: 90_000 };
const K = `${E.base}/k/${E.clinic}`;
// A Test-Norge number of its own (born 15.09.1990), so that the other files' patients are untouched.
const PERSON = { fnr: '15899040047', name: 'Ine Avvik', born: '15.09.1990' };

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

/** Checks a radio button or presses a button with the keyboard: focus, then Space. */
async function byKeyboard(locator) {
  await locator.focus();
  await locator.page().keyboard.press('Space');
}

test('S7 C4 P10: a recalled message becomes a draft incident that the doctor registers, with the 72-hour clock, on accessible pages', LIMIT, async (t) => {
  const added = await fortroligCommand('patient', 'add', ...storageArgs(), '--clinic', E.clinic, '--fnr', PERSON.fnr, '--name', PERSON.name);
  const patientId = added.match(/^patient (\S+) added/m)?.[1];
  assert.ok(patientId, added);
  const d = await openBrowser();
  t.after(() => d.close());
  const doctor = await inviteAndEnrol(d, 'Asle Avvikslege', 'lege');
  const care = await fortroligCommand('staff', 'care', ...storageArgs(), '--clinic', E.clinic, '--staff', doctor, '--patient', patientId);
  assert.match(care, /care relationship started/);
  const page = d.page;

  // A new conversation, the patient confirmed by name and birth date (S7).
  await page.goto(`${K}/ansatt/pasient/${patientId}/ny-melding`);
  await page.getByLabel('Emne', { exact: true }).fill('Prøvesvar');
  await page.getByLabel('Melding', { exact: true }).fill('Prøvesvaret ditt er klart.');
  await page.getByLabel('Pasientens fulle navn').fill(PERSON.name);
  await page.getByLabel('Fødselsdato (dd.mm.åååå)').fill(PERSON.born);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Samtalen er startet' }).waitFor();
  const thread = page.url().match(/\/samtale\/([0-9a-f]{32})/)?.[1];
  assert.ok(thread, page.url());

  // Recalled before it is read: the notice links the draft incident.
  await page.getByRole('button', { name: 'Trekk tilbake' }).click();
  await page.getByRole('status').filter({ hasText: 'Meldingen er trukket tilbake.' }).waitFor();
  await assertAccessible(page, 'the thread after a recall');
  await page.getByRole('link', { name: /Et utkast til avvik er laget/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Melding trukket tilbake før den ble lest' }).waitFor();
  const draft = page.url().match(/\/ansatt\/avvik\/([0-9a-f]{32})$/)?.[1];
  assert.ok(draft, page.url());
  const opened = await mainText(page);
  assert.match(opened, /Utkast, ikke vurdert/);
  assert.match(opened, /\d{2}\.\d{2}\.\d{4} kl\. \d{2}\.\d{2} \((72|71) timer igjen\)/, `the 72-hour clock: ${opened}`);
  await assertAccessible(page, 'the draft incident');

  // Without a risk: refused, with what was typed still there.
  const typed = 'Prøvesvaret gikk til riktig pasient, men gjaldt en annen prøve.';
  await byKeyboard(page.getByLabel('Ja, registrer avviket'));
  await page.getByLabel(/^Hva skjedde, og hva er gjort\?/).fill(typed);
  await page.getByRole('button', { name: 'Lagre vurderingen' }).click();
  await page.getByRole('status').filter({ hasText: 'Velg risikoen for pasienten.' }).waitFor();
  assert.equal(await page.getByLabel(/^Hva skjedde, og hva er gjort\?/).inputValue(), typed);
  assert.equal(await page.getByLabel('Ja, registrer avviket').isChecked(), true, 'the choice is kept too');
  await assertAccessible(page, 'a refused assessment');

  // Medium risk: registered; the report to Datatilsynet is due within the 72 hours.
  await byKeyboard(page.getByLabel(/^Middels/));
  await page.getByRole('button', { name: 'Lagre vurderingen' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Avviket er lagret.' }).waitFor();
  const registered = await mainText(page);
  for (const expected of ['Registrert avvik', 'Middels', typed]) assert.ok(registered.includes(expected), `${expected}: ${registered}`);
  assert.equal(await page.getByRole('button', { name: 'Registrer at pasienten er varslet' }).count(), 0, 'medium risk: the patient need not be told');
  await assertAccessible(page, 'a registered incident');
  await page.getByRole('button', { name: 'Registrer at avviket er meldt til Datatilsynet' }).click();
  await page.getByRole('status').filter({ hasText: 'Avviket er lagret.' }).waitFor();
  assert.match(await mainText(page), /Meldt til Datatilsynet \d{2}\.\d{2}\.\d{4}/);
  await assertAccessible(page, 'a reported incident');

  // The register, from the workspace's front page.
  await page.goto(`${K}/ansatt/`);
  await page.getByRole('link', { name: 'Avvik', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Avvik' }).waitFor();
  const row = (await page.locator('tbody tr', { has: page.locator(`a[href$="/avvik/${draft}"]`) }).innerText()).replace(/\s+/g, ' ');
  assert.match(row, /Melding trukket tilbake før den ble lest Registrert avvik Middels Meldt til Datatilsynet/, row);
  await assertAccessible(page, 'the incident register');

  // On record: the recall names the draft; the assessment and the report are the doctor's.
  const { rows } = await clinicSql(E.clinic,
    'SELECT action, actor_id, object FROM audit_entries WHERE object LIKE ? ORDER BY seq', `%incident:${draft}%`);
  assert.deepEqual(rows.map(([action, actor]) => `${action} ${actor}`), [
    `message.recalled staff:${doctor}`,
    `patient.read staff:${doctor}`,
    `patient.read staff:${doctor}`,
    `incident.decided staff:${doctor}`,
    `patient.read staff:${doctor}`,
    `incident.followed_up staff:${doctor}`,
    `patient.read staff:${doctor}`,
  ], JSON.stringify(rows));
  assert.deepEqual(d.cspErrors, [], 'no CSP violations');
});
