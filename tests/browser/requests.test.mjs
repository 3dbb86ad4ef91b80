// Requests under the patient's rights in a real browser (P9, S5): the patient files a
// correction, a deletion, a restriction and a copy request and sees each deadline; a doctor
// in care sees them by deadline and answers: the correction is granted (a dated entry beside
// the untouched original), the deletion of a journal-worthy conversation is refused with the
// legal reason, the restriction and the copy are granted; the patient sees the corrected
// message marked and the refusal's reason. axe-core on every page.
// Run through tests/browser/run.mjs, which starts the mock ID-porten and the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeViolations, env, fortroligCommand, inviteAndEnrol, mainText, openBrowser, pickTestPerson, runAxe, storageArgs } from './lib.mjs';

const E = env();
const LIMIT = { timeout: 90_000 };
// A Test-Norge number of its own, so that the shared patient of the other files is untouched.
const PERSON = { fnr: '22840273931', name: 'Rut Rettighet' };
const REQUESTS = `${E.base}/k/${E.clinic}/foresporsler`;
const STAFF_REQUESTS = `${E.base}/k/${E.clinic}/ansatt/foresporsler`;

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

/** The patient writes an e-konsultasjon; returns the thread's id. */
async function writeThread(page, subject, text) {
  await page.goto(`${E.base}/k/${E.clinic}/meldinger/ny`);
  await page.getByRole('link', { name: 'Skriv: E-konsultasjon' }).click();
  await page.getByLabel('Emne', { exact: true }).fill(subject);
  await page.getByLabel('Melding', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send meldingen' }).click();
  await page.getByRole('heading', { name: subject, level: 1 }).waitFor();
  const thread = page.url().match(/\/meldinger\/([0-9a-f]{32})$/)?.[1];
  assert.ok(thread, page.url());
  return thread;
}

async function fileRequest(page, kind, scope, text) {
  await page.goto(REQUESTS);
  await page.getByLabel(kind, { exact: true }).check();
  await page.getByLabel('Hva gjelder det?').selectOption(scope);
  await page.getByLabel('Beskriv hva du ber om').fill(text);
  await page.getByRole('button', { name: 'Send forespørselen' }).click();
  await page.getByText('Forespørselen er sendt.').waitFor();
}

/** Opens the staff page of the request whose row names `kind`, and answers it. */
async function answer(page, kind, fill) {
  await page.goto(STAFF_REQUESTS);
  const row = page.locator('tbody tr', { hasText: kind }).filter({ hasText: 'Mottatt, ikke besvart' });
  await row.getByRole('link', { name: 'Åpne forespørselen' }).click();
  await page.getByRole('heading', { name: kind, level: 1 }).waitFor();
  await assertAccessible(page, `the staff page of a ${kind} request`);
  await fill(page);
  await page.getByText('Svaret er lagret.').waitFor();
}

test('P9 S5: four requests with their deadlines, answered by a doctor; the correction is shown beside the original and the refusal names the law', LIMIT, async (t) => {
  const added = await fortroligCommand('patient', 'add', ...storageArgs(), '--clinic', E.clinic, '--fnr', PERSON.fnr, '--name', PERSON.name);
  const patientId = added.match(/^patient (\S+) added/m)?.[1];
  assert.ok(patientId, added);

  // The patient logs in (the consent page is answered by openBrowser) and writes twice.
  const p = await openBrowser();
  t.after(() => p.close());
  await p.page.goto(E.portal);
  await p.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  await pickTestPerson(p.page, PERSON.fnr);
  await p.page.getByText(`Du er logget inn som ${PERSON.name}`).waitFor();
  const journal = await writeThread(p.page, 'Brystsmerter', 'Jeg har hatt vondt i brystet i to dager.');
  const plain = await writeThread(p.page, 'Timeendring', 'Jeg tar blodtrykksmedisin hver kveld.');

  // A doctor in care marks the first conversation's message journal-worthy (S5).
  const d = await openBrowser();
  t.after(() => d.close());
  const doctor = await inviteAndEnrol(d, 'Rikke Rettslege', 'lege');
  const care = await fortroligCommand('staff', 'care', ...storageArgs(), '--clinic', E.clinic, '--staff', doctor, '--patient', patientId);
  assert.match(care, /care relationship started/);
  await d.page.goto(`${E.base}/k/${E.clinic}/ansatt/samtale/${journal}`);
  await d.page.getByRole('button', { name: 'Merk som journalverdig' }).click();
  await d.page.getByText('Journalverdig', { exact: false }).first().waitFor();

  // The patient files one request of each kind, from the link on the portal's front page.
  await p.page.goto(E.portal);
  await p.page.getByRole('link', { name: 'Be om retting, sletting, begrensning eller kopi' }).click();
  await p.page.getByRole('heading', { name: 'Forespørsler om opplysningene dine', level: 1 }).waitFor();
  await assertAccessible(p.page, 'the patient\'s request page, empty');
  await fileRequest(p.page, 'Retting', plain, 'Jeg tar medisinen om morgenen, ikke om kvelden.');
  await fileRequest(p.page, 'Sletting', journal, 'Slett samtalen om brystsmerter.');
  await fileRequest(p.page, 'Begrensning av behandlingen', '', 'Ikke bruk opplysningene før klagen min er avgjort.');
  await fileRequest(p.page, 'Kopi av opplysningene', '', 'Jeg vil ha en kopi av alt.');
  const filed = await mainText(p.page);
  assert.equal((filed.match(/30 dager igjen/g) ?? []).length, 4, `each request shows its deadline:\n${filed}`);
  assert.equal((filed.match(/Mottatt, ikke besvart/g) ?? []).length, 4);
  await assertAccessible(p.page, 'the patient\'s request page with four requests');

  // The doctor sees the four with their deadlines.
  await d.page.goto(`${E.base}/k/${E.clinic}/ansatt/`);
  await d.page.getByRole('link', { name: 'Forespørsler fra pasienter' }).click();
  await d.page.getByRole('heading', { name: 'Forespørsler fra pasienter', level: 1 }).waitFor();
  const list = await mainText(d.page);
  assert.ok((list.match(/30 dager igjen/g) ?? []).length >= 4, list);
  await assertAccessible(d.page, 'the staff list of requests');

  // Correction: granted, with the text to stand beside the original.
  await answer(d.page, 'Retting', async (page) => {
    await page.getByLabel('Innvilg').check();
    await page.getByLabel('Rettelsen (ved retting)', { exact: false }).fill('Pasienten tar blodtrykksmedisinen om morgenen.');
    await page.getByRole('button', { name: 'Send svaret' }).click();
  });
  // Deletion of journal-worthy data: the page says why and offers only a refusal with the law.
  await answer(d.page, 'Sletting', async (page) => {
    assert.match(await mainText(page), /kan ikke innvilges/);
    await page.getByRole('button', { name: 'Avslå forespørselen' }).click();
  });
  await answer(d.page, 'Begrensning av behandlingen', async (page) => {
    await page.getByLabel('Innvilg').check();
    await page.getByRole('button', { name: 'Send svaret' }).click();
  });
  assert.match(await mainText(d.page), /Behandling begrenset/);
  await answer(d.page, 'Kopi av opplysningene', async (page) => {
    await page.getByLabel('Innvilg').check();
    await page.getByRole('button', { name: 'Send svaret' }).click();
  });
  await d.page.goto(`${E.base}/k/${E.clinic}/ansatt/pasient/${patientId}`);
  assert.match(await mainText(d.page), /Behandling begrenset/);
  await assertAccessible(d.page, 'the staff patient page with the restriction');

  // The patient sees the answers: the refusal's reason, naming the law.
  await p.page.goto(REQUESTS);
  const answered = await mainText(p.page);
  assert.match(answered, /Avslått/);
  assert.match(answered, /helsepersonelloven §§ 39–40/);
  assert.match(answered, /helsepersonelloven §§ 42–43/);
  assert.equal((answered.match(/Innvilget/g) ?? []).length, 3);
  await assertAccessible(p.page, 'the patient\'s request page with the answers');

  // The corrected message: the original as written, marked «Rettet <dato>», the correction beside it.
  await p.page.goto(`${E.base}/k/${E.clinic}/meldinger/${plain}`);
  const thread = await mainText(p.page);
  assert.match(thread, /Jeg tar blodtrykksmedisin hver kveld\./, 'the original stays');
  assert.match(thread, /Rettet \d{2}\.\d{2}\.\d{4} kl\. \d{2}\.\d{2}/);
  assert.match(thread, /Pasienten tar blodtrykksmedisinen om morgenen\./);
  await assertAccessible(p.page, 'the patient\'s corrected conversation');

  // Innsyn lists the requests too.
  await p.page.goto(`${E.base}/k/${E.clinic}/innsyn`);
  const held = await mainText(p.page);
  assert.match(held, /Forespørsler om opplysningene dine/);
  assert.match(held, /Jeg vil ha en kopi av alt\./);
  await assertAccessible(p.page, 'innsyn with the requests');
  assert.deepEqual([...p.cspErrors, ...d.cspErrors], [], 'no CSP violations');
});
