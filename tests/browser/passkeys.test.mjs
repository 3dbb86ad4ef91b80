// Passkeys in a real browser (S4, P10, X2): a member of staff enrols a passkey with the link
// `fortrolig admin invite` prints and logs in with it; the desk hands a patient without BankID a
// one-time activation code, with which the patient enrols a passkey on their own device; wrong
// codes and unknown passkeys are refused in Norwegian and log no one in.
// Run through tests/browser/run.mjs, which starts the mock ID-porten and the server.
//
// Each browser gets a virtual authenticator through the DevTools protocol (lib.mjs
// virtualAuthenticator; stack-notes §3(b)): it makes and uses passkeys at once, with user
// verification, and without any dialog. The server is browsed at http://localhost:PORT, the
// relying party's origin (an IP address is no valid RP ID).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import {
  clinicSql, describeViolations, env, fortroligCommand, mainText, openBrowser, runAxe, virtualAuthenticator,
} from './lib.mjs';

const E = env();
const LIMIT = { timeout: 30_000 };
const ACTIVATE = `${E.base}/k/${E.clinic}/aktiver`;
const PASSKEY_LOGIN = `${E.base}/k/${E.clinic}/passnokkel`;
const WORKSPACE = `${E.base}/k/${E.clinic}/ansatt/`;
const DESK = `${E.base}/k/${E.clinic}/ansatt/aktivering`;
const CODE = /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/;
// What the pages say (passkeys.rs, passnokkel.js).
const CODE_REFUSED = 'Koden er ugyldig, utløpt eller allerede brukt. Be klinikken om en ny kode.';
const NOT_USED = 'Passnøkkelen ble ikke brukt (avbrutt eller tidsavbrudd). Prøv igjen.';
const UNKNOWN_PASSKEY = 'Vi kjente ikke igjen passnøkkelen hos denne klinikken.';
const PATIENT_LOGGED_IN = `Du er logget inn som ${E.patient.name} (sikkerhetsnivå høyt)`;

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

async function sessionCookie(context) {
  return (await context.cookies(E.base)).find((c) => c.name === 'fortrolig_okt' && c.value !== '');
}

/** A browser with its own virtual authenticator: one person's device. */
async function openDevice(t) {
  const b = await openBrowser();
  t.after(() => b.close());
  b.authenticator = await virtualAuthenticator(b.page);
  b.ceremony = recordCeremony(b.page);
  return b;
}

/**
 * The JSON exchanges of the passkey script with the server (…/start and …/fullfor), kept for
 * checks and for messages when a ceremony goes wrong.
 */
function recordCeremony(page) {
  const seen = [];
  page.on('response', (r) => {
    const req = r.request();
    const url = new URL(req.url());
    if (req.method() !== 'POST' || !/\/(aktiver|passnokkel)\/(start|fullfor)$/.test(url.pathname)) return;
    const entry = { step: url.pathname.replace(/^\/k\/[^/]+\//, ''), status: r.status(), request: req.postData() ?? '', body: '' };
    seen.push(entry);
    r.text().then((body) => { entry.body = body; }, () => {});
  });
  return seen;
}
const showCeremony = (seen) => seen.map((s) => `POST ${s.step} ${s.status}: ${s.body || '(no body)'}`
  + (s.status >= 400 ? `\n      request: ${s.request.slice(0, 2000)}` : '')).join('\n  ') || '(no requests)';

const statusText = async (page) => (await page.locator('#status').innerText()).trim();

/** Waits until the ceremony's script has brought the browser to `url`, or fails with what went wrong. */
async function expectArrival(b, url, when) {
  try {
    await b.page.waitForURL(url, { timeout: 10_000 });
  } catch {
    const status = await statusText(b.page).catch(() => '(no #status on this page)');
    assert.fail(`${when}: the browser did not get to ${url}; it is at ${b.page.url()}, #status says «${status}»;\n  ${showCeremony(b.ceremony)}`);
  }
}

/** Waits until #status says `text`, or fails with what it said instead. */
async function expectStatus(b, text, when) {
  try {
    await b.page.locator('#status', { hasText: text }).waitFor({ timeout: 10_000 });
  } catch {
    const status = await statusText(b.page).catch(() => '(no #status on this page)');
    assert.fail(`${when}: expected #status to say «${text}»; at ${b.page.url()} it says «${status}»;\n  ${showCeremony(b.ceremony)}`);
  }
}

// ---- the server's records (the clinic's SQLite database) ----------------------------------------
const tokenHash = (cookie) => `hex:${crypto.createHash('sha256').update(cookie.value).digest('hex')}`;
async function storedSession(cookie) {
  const { rows } = await clinicSql(E.clinic,
    'SELECT subject_kind, hex(subject_id), level, provider, ended_at FROM sessions WHERE token_hash = ?', tokenHash(cookie));
  assert.equal(rows.length, 1, 'the session is stored on the server');
  const [kind, subject, level, provider, endedAt] = rows[0];
  return { kind, subject: subject.toLowerCase(), level, provider, endedAt };
}
async function activationsOf(kind, subject) {
  const { rows } = await clinicSql(E.clinic,
    'SELECT identity_proof, used_at FROM activation_codes WHERE subject_kind = ? AND subject_id = ? ORDER BY created_at',
    kind, `hex:${subject}`);
  return rows.map(([proof, usedAt]) => ({ proof, usedAt }));
}
async function passkeysOf(kind, subject) {
  const { rows } = await clinicSql(E.clinic,
    'SELECT hex(credential_id), last_used_at, revoked_at FROM passkeys WHERE subject_kind = ? AND subject_id = ? ORDER BY created_at',
    kind, `hex:${subject}`);
  return rows.map(([id, lastUsedAt, revokedAt]) => ({ id: id.toLowerCase(), lastUsedAt, revokedAt }));
}
const sessionCount = async () => (await clinicSql(E.clinic, 'SELECT count(*) FROM sessions')).rows[0][0];
/** A credential id as CDP gives it (base64) in the hex the database query returns. */
const hexOf = (b64) => Buffer.from(b64, 'base64').toString('hex');

// ---- staff -------------------------------------------------------------------------------------

/** `fortrolig admin invite` beside the running server: a new member of staff and their one-time link. */
async function invite(name, role) {
  const out = await fortroligCommand('admin', 'invite', '--data', process.env.BROWSER_DATA_DIR, '--clinic', E.clinic,
    '--name', name, '--role', role, '--url', E.base);
  const link = out.match(/^(\S+\/k\/\d{9}\/aktiver)#(\S+)$/m);
  assert.ok(link, `admin invite printed a link:\n${out}`);
  assert.equal(link[1], ACTIVATE, 'the link leads to the clinic\'s activation page on the server\'s public address');
  assert.match(link[2], CODE, 'the code follows the # (it never reaches the server or its logs)');
  return { link: link[0], code: link[2] };
}

/**
 * A member of staff opens their invitation link and enrols (`beforeEnrol` runs on the activation
 * page first); on return the device is in the workspace, logged in.
 */
async function enrolStaff(b, name, roleName, link, code, beforeEnrol = async () => {}) {
  const res = await b.page.goto(link);
  assert.equal(res.status(), 200, 'the activation page');
  await b.page.getByRole('heading', { level: 1, name: 'Aktiver innlogging med passnøkkel' }).waitFor();
  const field = b.page.getByLabel(/Aktiveringskode/);
  assert.equal(await field.inputValue(), code, 'the script fills the code field from the link');
  assert.equal(b.page.url(), ACTIVATE, 'and takes the code out of the address bar');
  await beforeEnrol();
  await b.page.getByRole('button', { name: 'Lag passnøkkel' }).click();
  await expectArrival(b, WORKSPACE, `${name}: after enrolling`);
  assert.match(await mainText(b.page), new RegExp(`Logget inn som ${name} \\(${roleName}\\)`));
}

test('S4 X2: staff enrol a passkey with the invitation link, land in the workspace at level high, and log in with the passkey again later', LIMIT, async (t) => {
  const name = 'Lars Passnøkkel';
  const { link, code } = await invite(name, 'lege');
  const b = await openDevice(t);

  // The activation page, with the code from the link filled in.
  await enrolStaff(b, name, 'Lege', link, code, () => assertAccessible(b.page, 'the activation page (code from the invitation)'));
  assert.deepEqual(b.ceremony.map((s) => `${s.step} ${s.status}`), ['aktiver/start 200', 'aktiver/fullfor 200'], showCeremony(b.ceremony));

  // The passkey is on the device and on the server; the session is the staff member's, at level high.
  const [credential, ...more] = await b.authenticator.credentials();
  assert.equal(more.length, 0, 'one passkey on the device');
  assert.equal(credential.rpId, 'localhost', 'made for this relying party');
  assert.equal(credential.isResidentCredential, true, 'a discoverable passkey (login without a user name)');
  const okt = await sessionCookie(b.context);
  assert.ok(okt, 'the session cookie fortrolig_okt is set');
  assert.equal(okt.httpOnly, true, 'fortrolig_okt is HttpOnly');
  assert.equal(okt.sameSite, 'Strict', 'fortrolig_okt is SameSite=Strict');
  assert.equal((await b.context.cookies(E.base)).find((c) => c.name === 'fortrolig_passnokkel'), undefined,
    'the ceremony cookie is gone once the ceremony is over');
  const session = await storedSession(okt);
  assert.deepEqual({ kind: session.kind, level: session.level, provider: session.provider, endedAt: session.endedAt },
    { kind: 'staff', level: 'high', provider: 'passkey', endedAt: null }, 'a staff session at level high, from the passkey (X2)');
  const staff = session.subject;
  assert.deepEqual((await passkeysOf('staff', staff)).map((p) => p.id), [hexOf(credential.credentialId)],
    'the server holds the device\'s passkey for this member of staff');
  const [activation] = await activationsOf('staff', staff);
  assert.equal(activation?.proof, 'driftsinvitasjon', 'the invitation is recorded as the identity proof');
  assert.notEqual(activation.usedAt, null, 'the invitation is used up');
  await assertAccessible(b.page, 'the workspace (logged in with a new passkey)');

  // The link works once.
  await b.page.goto(link);
  await b.page.getByRole('button', { name: 'Lag passnøkkel' }).click();
  await expectStatus(b, CODE_REFUSED, 'the invitation link a second time');
  assert.equal((await b.authenticator.credentials()).length, 1, 'no second passkey was made');
  assert.equal((await sessionCookie(b.context))?.value, okt.value, 'the refusal leaves the session as it was');
  await assertAccessible(b.page, 'the activation page refusing a used code');

  // The browser is closed, and the session cookie (it has no expiry) goes with it.
  assert.equal(okt.expires, -1, 'fortrolig_okt lives only as long as the browser');
  await b.context.clearCookies();

  // Log in again with the passkey, from the workspace's front page.
  b.ceremony.length = 0;
  await b.page.goto(WORKSPACE);
  assert.doesNotMatch(await mainText(b.page), /Logget inn som/, 'not logged in');
  await b.page.getByRole('link', { name: 'Logg inn med passnøkkel' }).click();
  await b.page.waitForURL(PASSKEY_LOGIN);
  await b.page.getByRole('heading', { level: 1, name: 'Logg inn med passnøkkel' }).waitFor();
  await assertAccessible(b.page, 'the passkey login page');
  await b.page.getByRole('button', { name: 'Logg inn med passnøkkel' }).click();
  await expectArrival(b, WORKSPACE, 'after logging in with the passkey');
  assert.deepEqual(b.ceremony.map((s) => `${s.step} ${s.status}`), ['passnokkel/start 200', 'passnokkel/fullfor 200'], showCeremony(b.ceremony));
  assert.match(await mainText(b.page), new RegExp(`Logget inn som ${name} \\(Lege\\)`));
  const again = await sessionCookie(b.context);
  assert.ok(again && again.value !== okt.value, 'a new session');
  const second = await storedSession(again);
  assert.deepEqual({ kind: second.kind, subject: second.subject, level: second.level, provider: second.provider },
    { kind: 'staff', subject: staff, level: 'high', provider: 'passkey' }, 'the same member of staff, at level high (X2)');
  const [used] = await passkeysOf('staff', staff);
  assert.notEqual(used.lastUsedAt, null, 'the server notes when the passkey was last used');
  assert.ok((await b.authenticator.credentials())[0].signCount >= 2, 'the device signed twice (enrolment and login)');
  await assertAccessible(b.page, 'the workspace (logged in again with the passkey)');
  assert.deepEqual(b.cspErrors, [], 'the pages work under their own Content-Security-Policy');
});

test('S4: staff log out of the workspace, the old session is dead on the server, and the passkey logs them in again', LIMIT, async (t) => {
  const name = 'Kaja Klinikksjef';
  const { link, code } = await invite(name, 'klinikkadministrator');
  const b = await openDevice(t);
  await enrolStaff(b, name, 'Klinikkadministrator', link, code);
  const old = await sessionCookie(b.context);
  assert.ok(old, 'logged in with a session cookie');

  const logout = b.page.getByRole('button', { name: 'Logg ut', exact: true });
  assert.equal(await logout.count(), 1, `the staff workspace has a «Logg ut» button; the page says: ${await mainText(b.page)}`);
  await logout.click();
  await b.page.waitForLoadState();
  assert.equal(await sessionCookie(b.context), undefined, 'the session cookie is cleared');
  assert.notEqual((await storedSession(old)).endedAt, null, 'the server ended the session');
  assert.doesNotMatch(await mainText(b.page), /Logget inn som/, 'logged out');
  await assertAccessible(b.page, 'the page after logging out of the workspace');

  // The old token is dead on the server, not only forgotten by the browser.
  await b.context.addCookies([old]);
  await b.page.goto(WORKSPACE);
  assert.doesNotMatch(await mainText(b.page), /Logget inn som/, 'the old cookie does not open the workspace');

  // The passkey logs in again.
  b.ceremony.length = 0;
  await b.page.getByRole('link', { name: 'Logg inn med passnøkkel' }).click();
  await b.page.getByRole('button', { name: 'Logg inn med passnøkkel' }).click();
  await expectArrival(b, WORKSPACE, 'after logging in with the passkey');
  assert.match(await mainText(b.page), new RegExp(`Logget inn som ${name} \\(Klinikkadministrator\\)`));
  const fresh = await sessionCookie(b.context);
  assert.ok(fresh && fresh.value !== old.value, 'a new session');
  assert.equal((await storedSession(fresh)).level, 'high');
  assert.deepEqual(b.cspErrors, [], 'the pages work under their own Content-Security-Policy');
});

test('P10 X2: the desk gives a patient without BankID an activation code, the patient enrols a passkey on their own device and logs in; the code works once', LIMIT, async (t) => {
  // The desk: a secretary, logged in with their own passkey (level high).
  const name = 'Siri Skranke';
  const { link, code: invitation } = await invite(name, 'sekretaer');
  const desk = await openDevice(t);
  await enrolStaff(desk, name, 'Sekretær', link, invitation);
  await desk.page.getByRole('link', { name: 'Aktiveringskode for pasient uten BankID' }).click();
  await desk.page.waitForURL(DESK);
  await desk.page.getByRole('heading', { level: 1, name: 'Aktiveringskode for pasient uten BankID' }).waitFor();
  await assertAccessible(desk.page, 'the desk\'s activation code form');
  await desk.page.getByLabel('Pasientens fødselsnummer (fra legitimasjonen)').fill(E.patient.fnr);
  await desk.page.getByLabel('Legitimasjon som ble kontrollert').selectOption('pass');
  const issued = desk.page.waitForResponse((r) => r.url() === DESK && r.request().method() === 'POST');
  await desk.page.getByRole('button', { name: 'Lag aktiveringskode' }).click();
  const answer = await issued;
  assert.equal(answer.status(), 200, `the code is issued: ${await mainText(desk.page).catch(() => '')}`);
  assert.match(answer.headers()['cache-control'] ?? '', /no-store/, 'the page with the code is not cached');
  const code = (await desk.page.locator('p.kode strong').innerText()).trim();
  assert.match(code, CODE, 'a code of 12 characters in groups of four');
  await assertAccessible(desk.page, 'the page showing the activation code');

  // The patient's own device: from the portal's front page to the activation page.
  const patient = await openDevice(t);
  await patient.page.goto(E.portal);
  await patient.page.getByRole('link', { name: 'Aktiver passnøkkel' }).click();
  await patient.page.waitForURL(ACTIVATE);
  await assertAccessible(patient.page, 'the activation page (empty)');
  await patient.page.getByLabel(/Aktiveringskode/).fill(code.toLowerCase()); // typed as it comes
  await patient.page.getByRole('button', { name: 'Lag passnøkkel' }).click();
  await expectArrival(patient, E.portal, 'the patient, after enrolling');
  assert.match(await mainText(patient.page), new RegExp(PATIENT_LOGGED_IN.replace(/[()]/g, '\\$&')));
  const okt = await sessionCookie(patient.context);
  assert.ok(okt, 'the patient has a session cookie');
  const session = await storedSession(okt);
  assert.deepEqual({ kind: session.kind, level: session.level, provider: session.provider },
    { kind: 'patient', level: 'high', provider: 'passkey' }, 'a patient session at level high, from the passkey (X2)');
  const [credential, ...more] = await patient.authenticator.credentials();
  assert.equal(more.length, 0, 'one passkey on the patient\'s device');
  const passkeys = await passkeysOf('patient', session.subject);
  assert.ok(passkeys.some((p) => p.id === hexOf(credential.credentialId)), 'the server holds the passkey of the patient\'s device');
  const latest = (await activationsOf('patient', session.subject)).at(-1);
  assert.equal(latest?.proof, 'pass', 'the passport checked at the desk is recorded with the code');
  assert.notEqual(latest.usedAt, null, 'the code is used up');
  assert.equal((await desk.authenticator.credentials()).length, 1, 'the desk\'s device got no passkey of the patient\'s');
  await assertAccessible(patient.page, 'the portal (patient logged in with a new passkey)');

  // The patient logs out, and in again with the passkey.
  await patient.page.getByRole('button', { name: 'Logg ut', exact: true }).click();
  await patient.page.getByRole('link', { name: 'logg inn med passnøkkel' }).click();
  await patient.page.waitForURL(PASSKEY_LOGIN);
  patient.ceremony.length = 0;
  await patient.page.getByRole('button', { name: 'Logg inn med passnøkkel' }).click();
  await expectArrival(patient, E.portal, 'the patient, after logging in with the passkey');
  assert.match(await mainText(patient.page), new RegExp(PATIENT_LOGGED_IN.replace(/[()]/g, '\\$&')));
  const again = await sessionCookie(patient.context);
  assert.ok(again && again.value !== okt.value, 'a new session');
  assert.equal((await storedSession(again)).level, 'high');
  await patient.page.getByRole('button', { name: 'Logg ut', exact: true }).click();
  await patient.page.getByRole('link', { name: 'Aktiver passnøkkel' }).waitFor();

  // The same code on another device is refused.
  const other = await openDevice(t);
  await other.page.goto(ACTIVATE);
  await other.page.getByLabel(/Aktiveringskode/).fill(code);
  await other.page.getByRole('button', { name: 'Lag passnøkkel' }).click();
  await expectStatus(other, CODE_REFUSED, 'the same code a second time');
  assert.deepEqual(other.ceremony.map((s) => `${s.step} ${s.status}`), ['aktiver/start 400'], showCeremony(other.ceremony));
  assert.equal((await other.authenticator.credentials()).length, 0, 'no passkey was made');
  assert.equal(await sessionCookie(other.context), undefined, 'no session');
  assert.equal((await passkeysOf('patient', session.subject)).length, passkeys.length, 'the patient got no other passkey');
  await assertAccessible(other.page, 'the activation page refusing a used code');
  for (const [who, b] of [['desk', desk], ['patient', patient], ['other device', other]]) {
    assert.deepEqual(b.cspErrors, [], `${who}: the pages work under their own Content-Security-Policy`);
  }
});

test('P10 S4: a wrong activation code, no passkey, and a passkey the clinic does not know are refused in Norwegian and log no one in', LIMIT, async (t) => {
  const b = await openDevice(t);
  const sessionsBefore = await sessionCount();

  // A code the clinic never issued.
  await b.page.goto(ACTIVATE);
  await b.page.getByLabel(/Aktiveringskode/).fill('ABCD-EFGH-JKMN');
  await b.page.getByRole('button', { name: 'Lag passnøkkel' }).click();
  await expectStatus(b, CODE_REFUSED, 'a wrong code');
  assert.deepEqual(b.ceremony.map((s) => `${s.step} ${s.status}`), ['aktiver/start 400'], showCeremony(b.ceremony));
  assert.equal((await b.authenticator.credentials()).length, 0, 'no passkey was made');
  await assertAccessible(b.page, 'the activation page refusing a wrong code');

  // A device without any passkey for this site: the browser has nothing to offer.
  b.ceremony.length = 0;
  await b.page.goto(PASSKEY_LOGIN);
  await b.page.getByRole('button', { name: 'Logg inn med passnøkkel' }).click();
  await expectStatus(b, NOT_USED, 'login on a device without a passkey (NotAllowedError)');
  assert.deepEqual(b.ceremony.map((s) => `${s.step} ${s.status}`), ['passnokkel/start 200'], 'nothing was sent to …/fullfor');
  await assertAccessible(b.page, 'the passkey login page after NotAllowedError');

  // A passkey for this site (rp localhost) that the clinic never registered.
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await b.authenticator.addCredential({
    credentialId: crypto.randomBytes(16).toString('base64'),
    isResidentCredential: true,
    rpId: 'localhost',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    userHandle: crypto.randomBytes(16).toString('base64'),
    signCount: 0,
  });
  b.ceremony.length = 0;
  await b.page.reload();
  await b.page.getByRole('button', { name: 'Logg inn med passnøkkel' }).click();
  await expectStatus(b, UNKNOWN_PASSKEY, 'login with an unregistered passkey');
  assert.deepEqual(b.ceremony.map((s) => `${s.step} ${s.status}`), ['passnokkel/start 200', 'passnokkel/fullfor 401'], showCeremony(b.ceremony));
  assert.equal(b.page.url(), PASSKEY_LOGIN, 'the browser stays on the login page');
  await assertAccessible(b.page, 'the passkey login page refusing an unknown passkey');

  assert.equal(await sessionCookie(b.context), undefined, 'no session cookie');
  assert.equal(await sessionCount(), sessionsBefore, 'no session was started on the server');
  const portal = await b.page.goto(WORKSPACE);
  assert.equal(portal.status(), 200);
  assert.doesNotMatch(await mainText(b.page), /Logget inn som/, 'the workspace is not open');
  assert.deepEqual(b.cspErrors, [], 'the pages work under their own Content-Security-Policy');
});
