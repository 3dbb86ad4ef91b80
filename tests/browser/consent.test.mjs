// Consent at the first login (P4) and the end of a patient's use of the portal (P11), in a
// real browser: a patient who has never been asked is sent to the consent page before the
// portal, chooses, changes their mind (messaging stops at once), sees every choice with its
// time and text version, ends their use of the portal, and cannot log in again.
import assert from 'node:assert/strict';
import test from 'node:test';

import { describeViolations, env, fortroligCommand, mainText, openBrowser, pickTestPerson, runAxe, storageArgs } from './lib.mjs';

const E = env();
const LIMIT = { timeout: 60_000 };
// A Test-Norge number of its own: the shared patient of the other files has answered already.
const PERSON = { fnr: '12858010053', name: 'Siri Samtykke' };
const CONSENT = new RegExp(`^${E.base}/k/${E.clinic}/samtykke\\?neste=`);

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

async function logIn(b) {
  await b.page.goto(E.portal);
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  await pickTestPerson(b.page, PERSON.fnr);
}

test('P4 P11: consent at the first login, withdrawal stops messaging, the patient ends the portal and cannot log in', LIMIT, async (t) => {
  await fortroligCommand('patient', 'add', ...storageArgs(), '--clinic', E.clinic, '--fnr', PERSON.fnr, '--name', PERSON.name);
  const b = await openBrowser({ consent: false });
  t.after(() => b.close());

  // The first login lands on the consent page, with nothing ticked in advance.
  await logIn(b);
  await b.page.waitForURL(CONSENT);
  const first = await mainText(b.page);
  assert.match(first, /Før du tar portalen i bruk/);
  assert.match(first, /journalen/, 'the clinic\'s text says what needs no consent');
  for (const id of ['meldinger', 'timer', 'resept', 'video', 'sms', 'epost']) {
    assert.equal(await b.page.locator(`#${id}`).isChecked(), false, `${id} is not ticked in advance`);
  }
  await assertAccessible(b.page, 'the consent page at the first login');

  // Yes to messaging and SMS notices; the portal follows.
  await b.page.getByLabel('Meldinger med klinikken (e-konsultasjon)').check();
  await b.page.getByLabel('Varsel på SMS når noe nytt venter på meg').check();
  await b.page.getByRole('button', { name: 'Lagre valgene' }).click();
  await b.page.waitForURL(E.portal);
  assert.match(await mainText(b.page), new RegExp(`Du er logget inn som ${PERSON.name}`));
  await b.page.getByRole('link', { name: 'Meldinger', exact: true }).click();
  await b.page.getByRole('link', { name: 'Ny melding' }).waitFor();

  // Withdrawn: the inbox offers no new message, and the change is kept with its time and
  // the version of the text.
  await b.page.goto(`${E.base}/k/${E.clinic}/samtykke`);
  await b.page.getByLabel('Meldinger med klinikken (e-konsultasjon)').uncheck();
  await b.page.getByRole('button', { name: 'Lagre valgene' }).click();
  await b.page.getByText('Valgene er lagret.').waitFor();
  const history = await mainText(b.page);
  assert.match(history, /Valgene dine over tid/);
  assert.match(history, /samtykke-[0-9a-f]{12}/, 'each choice names the version of the text');
  const rows = await b.page.locator('table tbody tr').count();
  assert.equal(rows, 7, 'six choices at the first answer, one change');
  await assertAccessible(b.page, 'the consent page with its history');
  await b.page.goto(`${E.base}/k/${E.clinic}/meldinger`);
  assert.match(await mainText(b.page), /Du har sagt nei til meldinger med klinikken/);
  assert.equal(await b.page.getByRole('link', { name: 'Ny melding' }).count(), 0);
  await b.page.goto(`${E.base}/k/${E.clinic}/varsler`);
  assert.equal(await b.page.locator('#sms').isChecked(), true, 'the notice page shows the same choice');

  // Ending the portal needs the box ticked; then the patient is logged out.
  await b.page.goto(`${E.base}/k/${E.clinic}/samtykke`);
  await b.page.getByRole('button', { name: 'Avslutt bruken' }).click();
  await b.page.getByText('Kryss av for at du vil avslutte bruken').waitFor();
  await b.page.getByLabel('Ja, jeg vil avslutte bruken av pasientportalen').check();
  await b.page.getByRole('button', { name: 'Avslutt bruken' }).click();
  await b.page.getByRole('heading', { name: 'Du har avsluttet bruken av pasientportalen' }).waitFor();
  await assertAccessible(b.page, 'the page after ending the portal');
  assert.equal((await b.context.cookies()).filter((c) => c.name === 'fortrolig_okt').length, 0, 'the session cookie is gone');

  // A new login is refused in Norwegian (ID-porten may remember the person: no form then).
  await b.page.goto(E.portal);
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  const form = b.page.getByLabel('Fødselsnummer');
  const refused = b.page.getByText('Bruken av pasientportalen er avsluttet');
  await form.or(refused).waitFor();
  if (await form.count()) await pickTestPerson(b.page, PERSON.fnr);
  await refused.waitFor();
  await assertAccessible(b.page, 'the refused login');
  assert.equal((await b.context.cookies()).filter((c) => c.name === 'fortrolig_okt').length, 0, 'no session');
});
