// Security level step-up and the idle limit, in a real browser (X2, P9, S4).
// Run through tests/browser/run.mjs, which starts the mock ID-porten and the server.
//
// Logins here name their person with the mock's `mock_op_login_hint` cookie rather than by
// rewriting the authorization request (lib.mjs loginAsPerson): the step-up's second login starts
// in the middle of a redirect chain (innsyn -> /innlogging -> provider), where playwright cannot
// change requests.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { describeViolations, env, mainText, openBrowser, runAxe } from './lib.mjs';

const E = env();
const CALLBACK = `${E.base}/innlogging/idporten/tilbake`;
const INNSYN = `${E.base}/k/${E.clinic}/innsyn/logg`;
const LIMIT = { timeout: 30_000 };
const MINUTE_MICROS = 60 * 1_000_000;
const LOGGED_IN = `Du er logget inn som ${E.patient.name}`;

async function assertAccessible(page, where) {
  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `axe found ${violations.length} violation(s) on ${where} (${page.url()}):\n${describeViolations(violations)}`);
}

async function sessionCookie(context) {
  return (await context.cookies(E.base)).find((c) => c.name === 'fortrolig_okt' && c.value !== '');
}

/** The mock ID-porten logs in as `person` whenever the authorization request has no login_hint. */
async function loginPerson(context, person) {
  await context.addCookies([{ name: 'mock_op_login_hint', value: person, url: E.issuer, sameSite: 'Lax' }]);
}

/**
 * The login's welcome page (the callback's answer) moves on at once with `Refresh: 0`, too fast
 * to check in place, and playwright cannot keep the body of a page navigated away from. So the
 * callback's answers are kept as they pass through the network layer (CDP Fetch, response
 * stage; they go on unchanged), and `checkWelcomePages` shows each again in a page of its own
 * (same URL, status, body and CSP; no Refresh or Set-Cookie) for axe.
 */
async function keepWelcomePages(page) {
  const kept = [];
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Fetch.requestPaused', async (e) => {
    try {
      if (e.responseStatusCode === 200) {
        const { body, base64Encoded } = await cdp.send('Fetch.getResponseBody', { requestId: e.requestId });
        kept.push({ url: e.request.url, status: e.responseStatusCode, headers: e.responseHeaders, body: Buffer.from(body, base64Encoded ? 'base64' : 'utf8') });
      }
    } finally {
      await cdp.send('Fetch.continueResponse', { requestId: e.requestId }).catch(() => {});
    }
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${CALLBACK}?*`, requestStage: 'Response' }] });
  return kept;
}
async function checkWelcomePages(context, kept, where) {
  assert.ok(kept.length > 0, `${where}: the welcome page was seen`);
  for (const w of kept) {
    const page = await context.newPage();
    try {
      const headers = Object.fromEntries(w.headers.filter((h) => !/^(refresh|set-cookie)$/i.test(h.name)).map((h) => [h.name, h.value]));
      await page.route(w.url, (route) => route.fulfill({ status: w.status, headers, body: w.body }));
      await page.goto(w.url);
      await page.getByRole('link', { name: 'Fortsett' }).waitFor();
      await assertAccessible(page, `${where}: the welcome page`);
    } finally {
      await page.close();
    }
  }
  kept.length = 0;
}

/** Waits until `wanted` shows, or fails at once with what a refused login's page says. */
async function expectShown(page, wanted, when) {
  const refused = page.getByRole('heading', { level: 1, name: /Vi fant deg ikke|Innloggingen|For mange forsøk/ });
  await wanted.or(refused).first().waitFor();
  assert.ok(await wanted.isVisible(), `${when}: the login was refused; ${page.url()} says: ${await mainText(page)}`);
}
const expectLoggedIn = (page, when) => expectShown(page, page.getByText(LOGGED_IN), when);

/** Every hop of the main frame's navigations (redirects included), with the status of each answer. */
function recordNavigations(page) {
  const hops = [];
  page.on('response', (r) => {
    const req = r.request();
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) hops.push({ url: new URL(req.url()), status: r.status() });
  });
  return hops;
}
const show = (hops) => hops.map((h) => `${h.status} ${h.url.origin === E.base ? h.url.pathname + h.url.search : `${h.url.origin}${h.url.pathname}`}`).join('\n  -> ');

// ---- the server's stored sessions (SQLite, the clinic's database), for the idle limit ----------
// Reached with python3's sqlite3 (Node 20 has no SQLite); the server keeps WAL mode and a busy
// timeout, so a short write beside it is safe. Session rows are found by the SHA-256 of the
// cookie's token, which is all the server stores.
const execFileP = promisify(execFile);
const CLINIC_DB = path.join(process.env.BROWSER_DATA_DIR ?? '', 'clinics', `${E.clinic}.db`);
const SQL = `
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=10)
args = [bytes.fromhex(a[4:]) if isinstance(a, str) and a.startswith('hex:') else a for a in json.loads(sys.argv[3])]
cur = con.execute(sys.argv[2], args)
rows = [list(r) for r in cur.fetchall()] if cur.description else []
changed = cur.rowcount
con.commit()
con.close()
print(json.dumps({'rows': rows, 'changed': changed}))
`;
async function sql(statement, ...args) {
  assert.ok(process.env.BROWSER_DATA_DIR, 'BROWSER_DATA_DIR is set by run.mjs');
  const { stdout } = await execFileP('python3', ['-c', SQL, CLINIC_DB, statement, JSON.stringify(args)], { timeout: 15_000 });
  return JSON.parse(stdout);
}
const tokenHash = (cookie) => `hex:${crypto.createHash('sha256').update(cookie.value).digest('hex')}`;
async function storedSession(cookie) {
  const { rows } = await sql('SELECT level, last_seen, ended_at, end_reason FROM sessions WHERE token_hash = ?', tokenHash(cookie));
  assert.equal(rows.length, 1, 'the session is stored on the server');
  const [level, lastSeen, endedAt, endReason] = rows[0];
  return { level, lastSeen, endedAt, endReason };
}
/** Moves the session's last activity `minutes` back, as if the browser had been left alone that long. */
async function idle(cookie, minutes) {
  const { changed } = await sql('UPDATE sessions SET last_seen = last_seen - ? WHERE token_hash = ? AND ended_at IS NULL',
    minutes * MINUTE_MICROS, tokenHash(cookie));
  assert.equal(changed, 1, 'one open session was aged');
}
const nowMicros = () => Date.now() * 1000;

test('X2 P9: a patient at level substantial who opens «who has seen my data» is sent to log in at high, then sees it', LIMIT, async (t) => {
  const b = await openBrowser();
  t.after(() => b.close());
  await loginPerson(b.context, E.patient.fnr);
  const hops = recordNavigations(b.page);
  const welcome = await keepWelcomePages(b.page);

  // Log in at substantial (the level for pages without health data).
  await b.page.goto(`${E.base}/k/${E.clinic}/innlogging?nivaa=betydelig`);
  await expectLoggedIn(b.page, 'after logging in at substantial');
  await b.page.waitForURL(E.portal);
  const first = hops.find((h) => h.url.origin === E.issuer && h.url.pathname === '/authorize');
  // The request is pushed (PAR), so the level asked for is not in the address; the level
  // reached is checked on the stored session below.
  assert.ok(first?.url.searchParams.get('request_uri'), `a pushed authorization request:\n  ${show(hops)}`);
  assert.match(await mainText(b.page), new RegExp(`${LOGGED_IN} \\(sikkerhetsnivå betydelig\\)`));
  const low = await sessionCookie(b.context);
  assert.ok(low, 'a session cookie');
  assert.equal((await storedSession(low)).level, 'substantial');
  await assertAccessible(b.page, 'the portal (logged in at substantial)');
  await checkWelcomePages(b.context, welcome, 'login at substantial');

  // The access log holds health data (level high): the patient is sent to log in again, not shown an error.
  hops.length = 0;
  await b.page.getByRole('link', { name: 'Se hvem som har sett opplysningene dine' }).click();
  await expectShown(b.page, b.page.getByRole('heading', { level: 1, name: 'Hvem har sett opplysningene dine' }), 'after the step-up');
  assert.equal(b.page.url(), INNSYN, 'the patient ends up where they were going');
  const chain = `\n  ${show(hops)}`;
  assert.equal(hops[0]?.url.href, INNSYN, `the chain starts at the access log:${chain}`);
  assert.equal(hops[0].status, 303, `the access log first sends the patient on:${chain}`);
  const again = hops.find((h) => h.url.origin === E.base && h.url.pathname === `/k/${E.clinic}/innlogging`);
  assert.equal(again?.url.searchParams.get('nivaa'), 'hoy', `to log in again at high:${chain}`);
  assert.equal(again.url.searchParams.get('neste'), `/k/${E.clinic}/innsyn/logg`, `and back to the access log:${chain}`);
  const authorize = hops.filter((h) => h.url.origin === E.issuer && h.url.pathname === '/authorize');
  assert.equal(authorize.length, 1, `one authorization request:${chain}`);
  assert.ok(authorize[0].url.searchParams.get('request_uri'), `a pushed request (its level is checked on the session):${chain}`);
  assert.ok(hops.some((h) => h.url.href.startsWith(`${CALLBACK}?`) && h.status === 200), `the callback accepts the login:${chain}`);
  assert.deepEqual(hops.filter((h) => h.status >= 400).map((h) => `${h.status} ${h.url.href}`), [], `no error page on the way:${chain}`);
  assert.equal(hops.at(-1).status, 200, `the access log is shown:${chain}`);

  const text = await mainText(b.page);
  assert.match(text, /hendelser, nyeste først/, 'the log table');
  // Who, role, business, what, outcome (P9: the business they acted for).
  const business = `[^()]+ \\(org\\.nr\\. ${E.clinic}\\)`;
  assert.match(text, new RegExp(`Deg – ${business} Innlogging Tillatt`), 'the patient\'s own logins are listed');
  assert.match(text, new RegExp(`Systemet \\(klinikkens drift\\) – ${business} Registrerte deg som pasient Tillatt`), 'the registration by the clinic is listed');
  assert.equal(await b.page.locator('tbody tr').count() >= 3, true, 'registration and both logins');
  const high = await sessionCookie(b.context);
  assert.notEqual(high?.value, low.value, 'a new session for the new login');
  assert.equal((await storedSession(high)).level, 'high');
  await assertAccessible(b.page, 'the access log (innsyn)');
  await checkWelcomePages(b.context, welcome, 'step-up login');

  // Back on the portal, the session is at level high.
  await b.page.getByRole('link', { name: 'Tilbake' }).click();
  await b.page.waitForURL(E.portal);
  assert.match(await mainText(b.page), new RegExp(`${LOGGED_IN} \\(sikkerhetsnivå høyt\\)`));
  await assertAccessible(b.page, 'the portal (logged in at high)');
  assert.deepEqual(b.cspErrors, [], 'the pages work under their own Content-Security-Policy');
});

test('S4: after 30 minutes without activity the session ends and the patient is sent to log in', LIMIT, async (t) => {
  const b = await openBrowser();
  t.after(() => b.close());
  await loginPerson(b.context, E.patient.fnr);
  const welcome = await keepWelcomePages(b.page);
  await b.page.goto(E.portal);
  await assertAccessible(b.page, 'the portal front page (logged out)');
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  await expectLoggedIn(b.page, 'after logging in');
  await b.page.waitForURL(E.portal);
  await assertAccessible(b.page, 'the portal (logged in)');
  await checkWelcomePages(b.context, welcome, 'login');
  const old = await sessionCookie(b.context);
  assert.ok(old, 'logged in with a session cookie');

  // 29 minutes without activity: still logged in, and using the page moves the idle clock on.
  await idle(old, 29);
  await b.page.reload();
  await expectLoggedIn(b.page, 'after 29 minutes idle');
  const touched = await storedSession(old);
  assert.equal(touched.endedAt, null, 'the session is still open after 29 minutes');
  assert.ok(nowMicros() - touched.lastSeen < MINUTE_MICROS, 'the visit counts as activity');

  // 31 minutes without activity: the session has ended.
  await idle(old, 31);
  const res = await b.page.reload();
  const sent = (await res.request().allHeaders()).cookie ?? '';
  assert.ok(sent.includes(`fortrolig_okt=${old.value}`), 'the browser still sent its session cookie');
  assert.equal(b.page.url(), E.portal);
  const text = await mainText(b.page);
  assert.doesNotMatch(text, /Du er logget inn som/, 'no longer logged in');
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).waitFor();
  assert.match(text, /Du blir logget ut av seg selv etter 30 minutter uten bruk/, 'the login page says why');
  await assertAccessible(b.page, 'the portal after the idle limit (logged out)');
  const ended = await storedSession(old);
  assert.ok(ended.endedAt !== null && ended.endReason === 'expired', `the server ended the session as expired: ${JSON.stringify(ended)}`);

  // The old cookie is dead on the server: even with its idle clock set back to now, it logs no one
  // in, and a page that needs a login sends the browser to log in (not followed here: the mock's
  // own session would log the patient straight in again).
  await sql('UPDATE sessions SET last_seen = ? WHERE token_hash = ?', nowMicros(), tokenHash(old));
  await b.page.reload();
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).waitFor();
  assert.doesNotMatch(await mainText(b.page), /Du er logget inn som/, 'the old cookie does not log in');
  const log = await b.context.request.get(INNSYN, { maxRedirects: 0 });
  assert.equal(log.status(), 303, 'the access log sends the holder of the old cookie away');
  assert.equal(log.headers().location, `/k/${E.clinic}/innlogging?nivaa=hoy&neste=/k/${E.clinic}/innsyn/logg`, 'to log in');
  assert.equal((await sessionCookie(b.context))?.value, old.value, 'that was with the old cookie');

  // Logging in again gives a new session.
  await b.page.getByRole('link', { name: 'Logg inn med ID-porten' }).click();
  await expectLoggedIn(b.page, 'after logging in again');
  await b.page.waitForURL(E.portal);
  const fresh = await sessionCookie(b.context);
  assert.notEqual(fresh?.value, old.value, 'a new session');
  await assertAccessible(b.page, 'the portal (logged in again)');
  await checkWelcomePages(b.context, welcome, 'login after the idle limit');
  const open = await b.context.request.get(INNSYN, { maxRedirects: 0 });
  assert.equal(open.status(), 200, 'the same kind of request with the new cookie opens the access log (so the old cookie was sent)');
  assert.deepEqual(b.cspErrors, [], 'the pages work under their own Content-Security-Policy');
});
