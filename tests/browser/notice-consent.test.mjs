// Withdrawing consent stops a notice (P4, N5), in a real browser: a patient with a mobile
// number says yes to messaging and to SMS notices and writes to the clinic; a doctor in care
// replies, which makes an SMS notice («something new is waiting»). The browser server has a
// sender name but no SMS provider, so the notice waits in the outbox and is retried, as it
// would while the operator is away. The patient then says no to SMS notices: the waiting
// notice is not sent, and the patient's own notice page and innsyn say why; staff see it
// stopped with the reason in the notice log; the doctor's next reply makes no notice at all.
// axe-core on every page the test looks at.
// Run through tests/browser/run.mjs, which starts the mock ID-porten and the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  describeViolations, env, fortroligCommand, inviteAndEnrol, mainText, openBrowser, pickTestPerson, runAxe, storageArgs,
} from './lib.mjs';

const E = env();
const LIMIT = { timeout: 90_000 };
// A Test-Norge number of its own, so that the shared patient of the other files is untouched.
const PERSON = { fnr: '14879010110', name: 'Viggo Varsel', phone: '+47 912 34 567' };
const K = `${E.base}/k/${E.clinic}`;
const WITHDRAWN = 'Ikke sendt: du har sagt nei til slike varsler';

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

/** The rows of the notice table on the page at `url`, as text with single spaces. */
async function noticeRows(page, url) {
  await page.goto(url);
  // The notice table is the one with a «Sendt» column (innsyn has other tables too).
  const rows = await page.locator('table', { has: page.locator('th', { hasText: /^Sendt$/ }) })
    .locator('tbody tr').allInnerTexts();
  return rows.map((r) => r.replace(/\s+/g, ' ').trim());
}

/** The doctor replies in the thread and waits for the confirmation. */
async function reply(page, thread, text) {
  await page.goto(`${K}/ansatt/samtale/${thread}`);
  await page.locator('#tekst').fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Meldingen er sendt.' }).waitFor();
}

test('P4 N5: the patient\'s no to SMS stops the notice that was waiting, and no new one is made', LIMIT, async (t) => {
  const added = await fortroligCommand('patient', 'add', ...storageArgs(), '--clinic', E.clinic,
    '--fnr', PERSON.fnr, '--name', PERSON.name, '--phone', PERSON.phone);
  const patientId = added.match(/^patient (\S+) added/m)?.[1];
  assert.ok(patientId, added);

  // First login: yes to messaging and to SMS notices, nothing else.
  const p = await openBrowser({ consent: false });
  t.after(() => p.close());
  await p.page.goto(E.portal);
  await p.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  await pickTestPerson(p.page, PERSON.fnr);
  await p.page.waitForURL(new RegExp(`^${K}/samtykke\\?neste=`));
  await p.page.getByLabel('Meldinger med klinikken (e-konsultasjon)').check();
  await p.page.getByLabel('Varsel på SMS når noe nytt venter på meg').check();
  await p.page.getByRole('button', { name: 'Lagre valgene' }).click();
  await p.page.getByText(`Du er logget inn som ${PERSON.name}`).waitFor();

  // The patient writes; a doctor in care replies, which makes an SMS notice.
  await p.page.goto(`${K}/meldinger/ny`);
  await p.page.getByRole('link', { name: 'Skriv: E-konsultasjon' }).click();
  await p.page.getByLabel('Emne', { exact: true }).fill('Svimmel om morgenen');
  await p.page.getByLabel('Melding', { exact: true }).fill('Jeg blir svimmel når jeg står opp.');
  await p.page.getByRole('button', { name: 'Send meldingen' }).click();
  await p.page.getByRole('heading', { name: 'Svimmel om morgenen', level: 1 }).waitFor();
  const thread = p.page.url().match(/\/meldinger\/([0-9a-f]{32})$/)?.[1];
  assert.ok(thread, p.page.url());

  const d = await openBrowser();
  t.after(() => d.close());
  const doctor = await inviteAndEnrol(d, 'Vilde Varsellege', 'lege');
  const care = await fortroligCommand('staff', 'care', ...storageArgs(), '--clinic', E.clinic, '--staff', doctor, '--patient', patientId);
  assert.match(care, /care relationship started/);
  await reply(d.page, thread, 'Drikk mer vann om morgenen, og ring oss om det ikke går over.');

  // The notice waits: made, not sent (there is no SMS provider), and the patient sees it so.
  const waiting = await noticeRows(p.page, `${K}/varsler`);
  assert.equal(waiting.length, 1, `one notice:\n${waiting.join('\n')}`);
  assert.match(waiting[0], /Ny melding SMS (I kø|Sendes) –$/, waiting[0]);
  await assertAccessible(p.page, 'the patient\'s notice page with a waiting notice');

  // The patient says no to SMS notices on the consent page.
  await p.page.goto(`${K}/samtykke`);
  await p.page.getByLabel('Varsel på SMS når noe nytt venter på meg').uncheck();
  await p.page.getByRole('button', { name: 'Lagre valgene' }).click();
  await p.page.getByText('Valgene er lagret.').waitFor();

  // The waiting notice is stopped, and says why, on the notice page and in innsyn.
  const stopped = await noticeRows(p.page, `${K}/varsler`);
  assert.deepEqual(stopped.map((r) => r.replace(/^.* kl\. [0-9.]+ /, '')), [`Ny melding SMS ${WITHDRAWN} –`], stopped.join('\n'));
  await assertAccessible(p.page, 'the patient\'s notice page with a stopped notice');
  const held = await noticeRows(p.page, `${K}/innsyn`);
  assert.equal(held.length, 1, held.join('\n'));
  assert.ok(held[0].includes(WITHDRAWN), held[0]);
  await assertAccessible(p.page, 'innsyn with a stopped notice');

  // Staff see the notice stopped with its reason in the log.
  await d.page.goto(`${K}/ansatt/varsler`);
  const log = (await d.page.locator('tbody tr', { hasText: 'consent-withdrawn' }).allInnerTexts())
    .map((r) => r.replace(/\s+/g, ' '));
  assert.equal(log.length, 1, `the staff log shows the stopped notice once:\n${await mainText(d.page)}`);
  assert.match(log[0], /Ny melding SMS Ikke sendt/);
  await assertAccessible(d.page, 'the staff notice log');

  // The doctor writes again: the thread gets the message, but no notice is made.
  await reply(d.page, thread, 'Husk også å spise frokost.');
  const after = await noticeRows(p.page, `${K}/varsler`);
  assert.equal(after.length, 1, `still only the stopped notice:\n${after.join('\n')}`);
  await p.page.goto(`${K}/meldinger/${thread}`);
  assert.match(await mainText(p.page), /Husk også å spise frokost\./, 'the message itself reaches the portal');
});
