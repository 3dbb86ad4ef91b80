// The clinic administrator's pages in a real browser (issue 3 item 8; S1, S2, P10): an
// administrator who enrolled a passkey adds a member of staff, grants a role with a first and a
// last day, moves the last day, makes a team, adds the member and gives the team a patient by
// identity number, without ever seeing who the patient is. axe-core finds nothing on any page.
// Run through tests/browser/run.mjs, which starts the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  clinicSql, describeViolations, env, inviteAndEnrol, mainText, openBrowser, runAxe,
} from './lib.mjs';

const E = env();
const LIMIT = { timeout: 60_000 };
const K = `${E.base}/k/${E.clinic}`;
const DAY = 86_400_000;

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

/** A date as a date field takes it, in Oslo's calendar. */
const osloDate = (ms) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Oslo' }).format(new Date(ms));

async function audited(action) {
  const { rows } = await clinicSql(E.clinic, 'SELECT actor_id, object FROM audit_entries WHERE action = ? ORDER BY seq', action);
  return rows.map(([actor, object]) => ({ actor, object }));
}

test('S2 S1 P10 C3 X4: the clinic administrator grants, changes and ends roles with dates, manages a team, reads the record of processing and sets retention periods, on accessible pages', LIMIT, async (t) => {
  const b = await openBrowser();
  t.after(() => b.close());
  const admin = await inviteAndEnrol(b, 'Ada Administrator', 'klinikkadministrator');
  assert.match(await mainText(b.page), /Logget inn som Ada Administrator \(Klinikkadministrator\)/);

  await b.page.getByRole('link', { name: 'Ansatte og tilganger' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Ansatte og tilganger' }).waitFor();
  await assertAccessible(b.page, 'the people page');

  // A new member of staff; their page opens.
  await b.page.getByLabel('Fullt navn').fill('Berit Behandler');
  await b.page.getByRole('button', { name: 'Legg til' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Berit Behandler' }).waitFor();
  await assertAccessible(b.page, 'a person without roles');
  const person = b.page.url();

  // A role from today to a last day a month on.
  const now = Date.now();
  const month = osloDate(now + 30 * DAY);
  await b.page.getByLabel('Rolle').selectOption({ label: 'Lege' });
  await b.page.getByLabel('Første dag').fill(osloDate(now));
  await b.page.getByLabel(/^Siste dag/).fill(month);
  await b.page.getByRole('button', { name: 'Gi tilgang' }).click();
  await b.page.waitForURL(person);
  const row = b.page.locator('tbody tr', { hasText: 'I kraft' });
  assert.match(await row.innerText(), new RegExp(`Lege\\s+${osloDate(now)}\\s+${month}`));
  await assertAccessible(b.page, 'a person with a role in force');

  // A new last day: the old authorisation ends, a new one carries on.
  const twoMonths = osloDate(now + 60 * DAY);
  await b.page.getByLabel('Ny siste dag').fill(twoMonths);
  await b.page.getByRole('button', { name: 'Endre sluttdato' }).click();
  await b.page.waitForURL(person);
  assert.equal(await b.page.locator('tbody tr', { hasText: 'Avsluttet' }).count(), 1);
  assert.match(await b.page.locator('tbody tr', { hasText: 'I kraft' }).innerText(), new RegExp(twoMonths));
  const [changed] = await audited('authorisation.changed');
  assert.equal(changed?.actor, `staff:${admin}`, 'the change is audited as the administrator\'s');

  // A refused date says why and changes nothing.
  await b.page.getByLabel('Ny siste dag').fill(osloDate(now - 5 * DAY));
  await b.page.getByRole('button', { name: 'Endre sluttdato' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Ugyldig periode' }).waitFor();
  await assertAccessible(b.page, 'a refused date');
  assert.equal((await audited('authorisation.changed')).length, 1);

  // A team, with Berit in it, treating the test patient.
  await b.page.goto(`${K}/ansatt/team`);
  await assertAccessible(b.page, 'the teams page');
  await b.page.getByLabel('Navn på teamet').fill('Hjerteteamet');
  await b.page.getByRole('button', { name: 'Opprett team' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Team: Hjerteteamet' }).waitFor();
  await b.page.getByLabel('Ansatt').selectOption({ label: 'Berit Behandler' });
  await b.page.getByRole('button', { name: 'Legg til i teamet' }).click();
  await b.page.getByRole('button', { name: /Ta ut av teamet/ }).waitFor();
  await b.page.locator('#fnr-start').fill(E.patient.fnr);
  await b.page.getByRole('button', { name: 'Start behandlingsrelasjon' }).click();
  await b.page.getByText(/Pasient siden/).waitFor();
  const text = await mainText(b.page);
  assert.ok(!text.includes(E.patient.name) && !text.includes(E.patient.fnr), 'the administrator does not see who the patient is');
  await assertAccessible(b.page, 'a team with a member and a patient');
  assert.equal((await audited('team.care_started')).length, 1);

  // Notice templates (N3): a wording that names a condition is refused and says why.
  await b.page.goto(`${K}/ansatt/`);
  await b.page.getByRole('link', { name: 'Varselmaler og avsendernavn' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Varselmaler' }).waitFor();
  await assertAccessible(b.page, 'the notice templates');
  await b.page.locator('#ny-melding-sms').fill('Hei {fornavn}! Svaret fra kreftavdelingen er klart. Du kan ikke svare på denne SMS-en.');
  await b.page.getByRole('button', { name: 'Lagre Ny melding, SMS' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Malen ble ikke lagret' }).waitFor();
  await assertAccessible(b.page, 'a refused template');

  // The record of processing (C3), made from the setup.
  await b.page.goto(`${K}/ansatt/`);
  await b.page.getByRole('link', { name: 'Protokoll over behandlingsaktiviteter' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Protokoll over behandlingsaktiviteter' }).waitFor();
  assert.match(await mainText(b.page), /ID-porten \(Digdir\)/, 'the record names the login provider this server uses');
  await assertAccessible(b.page, 'the record of processing');

  // Retention periods (X4): a bad number is refused with the typed values kept; a good
  // one is saved, and the record of processing states it.
  await b.page.goto(`${K}/ansatt/`);
  await b.page.getByRole('link', { name: 'Oppbevaring og sletting' }).click();
  await b.page.getByRole('heading', { level: 1, name: 'Oppbevaring og sletting' }).waitFor();
  await assertAccessible(b.page, 'the retention periods');
  await b.page.getByLabel('Avsluttede samtaler (dager)').fill('0');
  await b.page.getByLabel('Vedlegg (dager)').fill('14');
  await b.page.getByRole('button', { name: 'Lagre oppbevaringstidene' }).click();
  await b.page.getByRole('alert').waitFor();
  assert.equal(await b.page.getByLabel('Vedlegg (dager)').inputValue(), '14', 'what was typed is kept');
  await assertAccessible(b.page, 'refused retention periods');
  await b.page.getByLabel('Avsluttede samtaler (dager)').fill('45');
  await b.page.getByRole('button', { name: 'Lagre oppbevaringstidene' }).click();
  await b.page.getByRole('status').waitFor();
  await b.page.getByRole('link', { name: 'Protokoll over behandlingsaktiviteter' }).click();
  assert.match(await mainText(b.page), /slettes 45 dager etter at den ble avsluttet, vedleggene etter 14 dager/);
  const [setting] = (await audited('clinic.setting_changed')).filter((e) => e.object.includes('oppbevaring'));
  assert.equal(setting?.actor, `staff:${admin}`, 'the change is audited as the administrator\'s');
});
