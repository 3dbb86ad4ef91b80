// Patient login through ID-porten into the portal, in a real browser (P1, P2, S4, X2, X3).
// Run through tests/browser/run.mjs, which starts the mock ID-porten and the server.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { describeViolations, env, mainText, openBrowser, pickTestPerson, runAxe, watchAuthorize } from './lib.mjs';

const E = env();
const NOT_A_PATIENT = '01017040088'; // the mock's default person; not registered at the clinic
const CALLBACK = `${E.base}/innlogging/idporten/tilbake`;
const LOGGED_OUT = `${E.base}/innlogging/idporten/utlogget`;
const LIMIT = { timeout: 30_000 };

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

async function sessionCookie(context) {
  return (await context.cookies(E.base)).find((c) => c.name === 'fortrolig_okt' && c.value !== '');
}

/**
 * Opens the portal and logs in through the mock ID-porten as `person`. Resolves once the browser
 * has come back through the callback; returns the authorization requests and the callback response.
 */
async function logIn(b, person) {
  const authorize = watchAuthorize(b.page, E.issuer);
  const start = await b.page.goto(E.portal);
  assert.equal(start.status(), 200, 'portal front page');
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).waitFor();
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  const callback = b.page.waitForResponse((r) => r.url().startsWith(`${CALLBACK}?`));
  await pickTestPerson(b.page, person);
  return { authorize, callback: await callback };
}

/** Waits for our page after logging out at ID-porten too. */
async function loggedOut(b) {
  await b.page.getByRole('heading', { name: 'Du er logget ut', exact: true }).waitFor();
  assert.ok(b.page.url().startsWith(`${LOGGED_OUT}?state=`), `back from ID-porten's logout: ${b.page.url()}`);
  assert.match(await mainText(b.page), /Du er logget ut av Fortrolig og av ID-porten/);
}

async function logInAsPatient(b) {
  await logIn(b, E.patient.fnr);
  await b.page.getByText(`Du er logget inn som ${E.patient.name}`).waitFor();
  await b.page.waitForURL(E.portal);
}

test('P1 X2: patient logs in through ID-porten at level high and sees their name', LIMIT, async (t) => {
  const b = await openBrowser();
  t.after(() => b.close());
  const navigations = []; // every hop of the main frame's navigations, redirects included
  b.page.on('request', (r) => { if (r.isNavigationRequest() && r.frame() === b.page.mainFrame()) navigations.push(r.url()); });

  await b.page.goto(E.portal);
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).waitFor();
  await assertAccessible(b.page, 'the portal front page (logged out)');

  const { authorize, callback } = await logIn(b, E.patient.fnr);
  // The request (level high, PKCE, state, nonce) was pushed to the provider (PAR): the browser
  // carries only Fortrolig's client_id and the reference the provider gave. What the pushed
  // request holds is checked in crates/identity/tests/oidc_flow.rs.
  assert.equal(authorize.length, 1, 'one authorization request to the provider');
  const params = authorize[0].searchParams;
  assert.deepEqual([...params.keys()].sort(), ['client_id', 'request_uri']);
  assert.equal(params.get('client_id'), 'fortrolig');
  assert.match(params.get('request_uri'), /^urn:/);
  assert.equal(callback.status(), 200, 'the callback accepts the login');

  await b.page.getByText(`Du er logget inn som ${E.patient.name}`).waitFor();
  await b.page.waitForURL(E.portal);
  assert.match(await mainText(b.page), new RegExp(`Du er logget inn som ${E.patient.name} \\(sikkerhetsnivå høyt\\)`));
  assert.ok(navigations.some((u) => u.startsWith(`${E.issuer}/`)), `went through the provider: ${navigations.join(' -> ')}`);
  assert.ok(navigations.some((u) => u.startsWith(`${CALLBACK}?`)), `came back through the callback: ${navigations.join(' -> ')}`);
  await b.page.getByRole('button', { name: 'Logg ut', exact: true }).waitFor();
  await b.page.getByRole('button', { name: 'Logg ut overalt' }).waitFor();
  await assertAccessible(b.page, 'the portal (logged in)');

  const okt = await sessionCookie(b.context);
  assert.ok(okt, 'the session cookie fortrolig_okt is set');
  assert.equal(okt.httpOnly, true, 'fortrolig_okt is HttpOnly');
  assert.equal(okt.sameSite, 'Strict', 'fortrolig_okt is SameSite=Strict');

  // P2: nothing is kept in the browser: no web storage, and the logged-in page is not cached.
  const storage = await b.page.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage) }));
  assert.deepEqual(storage, { local: [], session: [] }, 'no localStorage or sessionStorage keys');
  const again = await b.page.reload();
  assert.equal(again.headers()['cache-control'], 'no-store', 'the logged-in portal is sent with Cache-Control: no-store');
  await b.page.getByText(`Du er logget inn som ${E.patient.name}`).waitFor();

  await b.page.screenshot({ path: path.join(E.artifacts, 'portal.png'), fullPage: true });
  assert.deepEqual(b.cspErrors, [], 'the pages work under their own Content-Security-Policy');
});

test('S4: logout ends the session', LIMIT, async (t) => {
  const b = await openBrowser();
  t.after(() => b.close());
  await logInAsPatient(b);
  const old = await sessionCookie(b.context);
  assert.ok(old, 'logged in with a session cookie');

  await b.page.getByRole('button', { name: 'Logg ut', exact: true }).click();
  // Logged out here, then (by itself) at ID-porten, and back on our page that says so.
  await loggedOut(b);
  await assertAccessible(b.page, 'the logged-out page');
  assert.equal(await sessionCookie(b.context), undefined, 'the session cookie is cleared');
  await b.page.getByRole('link', { name: 'Til innloggingen' }).click();
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).waitFor();
  assert.equal(b.page.url(), E.portal, 'back on the portal front page');
  assert.doesNotMatch(await mainText(b.page), /Du er logget inn som/);

  // ID-porten's session ended too: logging in again asks who you are.
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  await b.page.getByRole('heading', { name: 'Velg testperson' }).waitFor();
  await b.page.goto(E.portal);

  // The old token must be dead on the server, not only forgotten by the browser.
  await b.context.addCookies([old]);
  const res = await b.page.goto(E.portal);
  const sent = (await res.request().allHeaders()).cookie ?? '';
  assert.ok(sent.includes(`fortrolig_okt=${old.value}`), 'the old cookie was sent again');
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).waitFor();
  assert.doesNotMatch(await mainText(b.page), /Du er logget inn som/, 'the old cookie does not log in');
  assert.deepEqual(b.cspErrors, []);
});

test('S4: «Logg ut overalt» ends the patient\'s sessions in other browsers too', LIMIT, async (t) => {
  const [a, b] = [await openBrowser(), await openBrowser()];
  t.after(() => Promise.all([a.close(), b.close()]));
  await logInAsPatient(a);
  await logInAsPatient(b);
  assert.match(await mainText(b.page), /Du har [2-9]\d* åpne økter/, 'the second browser sees more than one session');

  await b.page.getByRole('button', { name: 'Logg ut overalt' }).click();
  await loggedOut(b);

  await a.page.reload();
  await a.page.getByRole('link', { name: 'Logg inn med ID-porten' }).waitFor();
  assert.doesNotMatch(await mainText(a.page), /Du er logget inn som/, 'the other browser is logged out too');
});

test('X3: a person who is not a patient is refused in Norwegian', LIMIT, async (t) => {
  const b = await openBrowser();
  t.after(() => b.close());
  const { authorize, callback } = await logIn(b, NOT_A_PATIENT);
  assert.equal(authorize.length, 1);
  assert.equal(callback.status(), 403, 'the callback refuses with 403');
  await b.page.getByText('Du er ikke registrert som pasient ved denne klinikken').waitFor();
  assert.equal(await b.page.locator('html').getAttribute('lang'), 'nb');
  assert.equal(await sessionCookie(b.context), undefined, 'no session cookie for a refused person');
  await assertAccessible(b.page, 'the refusal page');
  assert.deepEqual(b.cspErrors, []);
});

test('S4: a patient sees where they are logged in and ends a session in another browser', LIMIT, async (t) => {
  const [a, b] = [await openBrowser(), await openBrowser()];
  t.after(() => Promise.all([a.close(), b.close()]));
  await logInAsPatient(a);
  await logInAsPatient(b);

  await b.page.getByRole('link', { name: 'Se og avslutt øktene dine' }).click();
  await b.page.getByRole('heading', { name: 'Dine økter' }).waitFor();
  await assertAccessible(b.page, 'the sessions page');
  const rows = b.page.locator('tbody tr');
  const before = await rows.count();
  assert.ok(before >= 2, `both browsers' sessions are listed (${before})`);
  assert.equal(await b.page.getByText('Denne økten', { exact: true }).count(), 1, 'one row is marked as this session');
  const okt = (await sessionCookie(b.context)).value;
  assert.ok(!(await b.page.content()).includes(okt), 'the session token is never shown');

  // The newest other session is browser a's.
  await rows.filter({ hasNotText: 'Denne økten' }).last().getByRole('button', { name: /^Avslutt økten startet / }).click();
  await b.page.getByRole('status').filter({ hasText: 'Økten er avsluttet.' }).waitFor();
  assert.equal(await rows.count(), before - 1);

  await a.page.reload();
  await a.page.getByRole('link', { name: 'Logg inn med ID-porten' }).waitFor();
  assert.doesNotMatch(await mainText(a.page), /Du er logget inn som/, 'the ended session no longer logs in');
  assert.deepEqual(b.cspErrors, []);
});
