// Shared helpers for Fortrolig's browser tests: Debian's Chromium driven by playwright-core,
// axe-core for accessibility, and the addresses run.mjs passes in the environment.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Where Chromium is (Debian's package; CI installs it with `apt-get install -y chromium`). */
export const CHROMIUM = process.env.BROWSER_CHROMIUM || '/usr/bin/chromium';

/** Launch flags verified on the project machine (stack-notes §3(b)). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

/** Addresses of the running system, set by run.mjs. */
export function env() {
  const need = (name) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run the browser tests through tests/browser/run.mjs`);
    return v;
  };
  const base = need('BROWSER_BASE_URL'); // http://localhost:PORT (localhost: the later WebAuthn RP ID)
  const clinic = need('BROWSER_CLINIC');
  return {
    base,
    clinic,
    portal: `${base}/k/${clinic}/`,
    issuer: need('BROWSER_OP_ISSUER'), // http://127.0.0.1:PORT of the mock ID-porten
    artifacts: need('BROWSER_ARTIFACTS'), // target/browser
    patient: { fnr: need('BROWSER_PATIENT_FNR'), name: need('BROWSER_PATIENT_NAME') },
  };
}

/**
 * A fresh Chromium with its own new profile directory (`--user-data-dir`). playwright-core
 * refuses that flag in `args` and takes the directory as launchPersistentContext's first
 * argument instead; the directory is deleted again by `close()`.
 * Returns { context, page, cspErrors, profile, close }. `cspErrors` collects console messages about
 * Content-Security-Policy violations: the server's pages must work under their own CSP.
 *
 * With `consent` (the default), a patient sent to the consent page at their first visit (P4)
 * answers it as most patients would, yes to the four services and no notices, and goes on to
 * where they were going; the tests of other things then need not know about it. The consent
 * test itself opens its browser with `consent: false`.
 */
export async function openBrowser({ timeout = 10_000, consent = true } = {}) {
  // run.mjs gives a directory inside its own temporary directory, so an interrupted run leaves none behind.
  const profile = fs.mkdtempSync(path.join(process.env.BROWSER_TMP || os.tmpdir(), 'profile-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout,
      locale: 'nb-NO',
      viewport: { width: 1024, height: 768 },
    });
  } catch (err) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(timeout);
  context.setDefaultNavigationTimeout(timeout);
  const cspErrors = [];
  const watch = (page) => page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspErrors.push(`${page.url()}: ${msg.text()}`);
  });
  context.pages().forEach(watch);
  context.on('page', watch);
  if (consent) {
    context.pages().forEach(answerFirstConsent);
    context.on('page', answerFirstConsent);
  }
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context,
    page,
    cspErrors,
    profile, // the profile directory: everything the browser keeps on disk (HTTP cache included)
    async close() {
      try { await context.close(); } finally { fs.rmSync(profile, { recursive: true, force: true }); }
    },
  };
}

/** The consent page's boxes for the four services, by id. */
export const SERVICES = ['meldinger', 'timer', 'resept', 'video'];

/** See openBrowser: answers the first-visit consent page whenever it loads in `page`. */
function answerFirstConsent(page) {
  page.on('load', async () => {
    try {
      const url = new URL(page.url());
      if (!/^\/k\/[0-9]+\/samtykke$/.test(url.pathname) || !url.searchParams.has('neste')) return;
      if (!(await page.getByText('Før du tar portalen i bruk').count())) return;
      for (const id of SERVICES) await page.locator(`#${id}`).check();
      await page.getByRole('button', { name: 'Lagre valgene' }).click();
    } catch {
      // The page went on or closed meanwhile: the test sees where it is.
    }
  });
}

let axeSource;
/** The DevTools session a page's virtual authenticator lives in, by page (virtualAuthenticator). */
const devtoolsSessions = new WeakMap();
/**
 * Runs axe-core on the page as it is and returns its violations (an empty array is good).
 *
 * The server's CSP (`script-src 'self'`) blocks `page.addScriptTag({ path })`, which inlines
 * the file as a <script> element. Instead the source is evaluated through the DevTools
 * protocol (CDP `Runtime.evaluate`), which a page's CSP does not govern, so the page itself
 * keeps its real CSP for the rest of the test (no setBypassCSP).
 */
export async function runAxe(page) {
  axeSource ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // A page with a virtual authenticator reuses that DevTools session (see virtualAuthenticator).
  const kept = devtoolsSessions.get(page);
  const cdp = kept ?? await page.context().newCDPSession(page);
  try {
    const injected = await cdp.send('Runtime.evaluate', {
      expression: `${axeSource}\n;typeof window.axe === 'object' && typeof window.axe.run === 'function'`,
      returnByValue: true,
    });
    if (injected.exceptionDetails || injected.result.value !== true) {
      throw new Error(`axe-core could not be injected: ${JSON.stringify(injected.exceptionDetails ?? injected.result)}`);
    }
  } finally {
    if (!kept) await cdp.detach().catch(() => {});
  }
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'] },
    resultTypes: ['violations'],
  }));
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, message: n.failureSummary })),
  }));
}

/** Human-readable axe violations, for assertion messages. */
export function describeViolations(violations) {
  return violations.map((v) => `- ${v.id} (${v.impact}): ${v.help} <${v.helpUrl}>\n${v.nodes
    .map((n) => `    at ${n.target}: ${n.html}\n      ${String(n.message).replace(/\n/g, '\n      ')}`).join('\n')}`).join('\n');
}

/**
 * Records the authorization requests the browser is sent to at the provider (`/authorize`), for
 * checks on their parameters. With PAR they carry only `client_id` and `request_uri`.
 */
export function watchAuthorize(page, issuer) {
  const seen = [];
  page.on('request', (r) => {
    if (!r.isNavigationRequest()) return;
    const url = new URL(r.url());
    if (url.origin === issuer && url.pathname === '/authorize') seen.push(url);
  });
  return seen;
}

/**
 * Picks the person to log in as on the mock ID-porten's page (run.mjs starts it with
 * MOCK_OP_LOGIN_PAGE=1: «Velg testperson», like ID-porten's TestID). The login request itself was
 * pushed (PAR), so the person cannot be added to the address as before.
 */
export async function pickTestPerson(page, personNumber) {
  await page.getByLabel('Fødselsnummer').fill(personNumber);
  await page.getByRole('button', { name: 'Logg inn' }).click();
}

/** The visible text of the page's <main>. */
export async function mainText(page) {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ').trim();
}

/**
 * A virtual authenticator on `page` (stack-notes §3(b)): a platform authenticator with
 * resident keys and user verification that answers at once, without any browser dialog.
 * It lives as long as its DevTools session, which is kept open for the page's life (it
 * survives navigations). Returns { id, credentials(), addCredential(), remove() }.
 *
 * Chromium turns the virtual authenticator environment off, passkeys and all, whenever any
 * DevTools session of the page is detached, not only the one that turned it on (seen with
 * Chromium 156: navigator.credentials.create() then waits forever). So nothing else may open
 * and close a session on such a page: runAxe borrows this one.
 */
export async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  devtoolsSessions.set(page, cdp);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId: id } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    id,
    /** The passkeys the authenticator holds (CDP WebAuthn.Credential: credentialId, rpId, userHandle, signCount …). */
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId: id })).credentials;
    },
    /** Puts a passkey into the authenticator (CDP WebAuthn.Credential, binary fields in base64). */
    async addCredential(credential) {
      await cdp.send('WebAuthn.addCredential', { authenticatorId: id, credential });
    },
    async remove() {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: id }).catch(() => {});
      devtoolsSessions.delete(page);
      await cdp.detach().catch(() => {});
    },
  };
}

/**
 * Runs the fortrolig binary the server runs (run.mjs passes it as BROWSER_FORTROLIG_BIN), e.g.
 * `admin invite` against the server's data directory while it serves. Like run.mjs, without
 * any FORTROLIG_* variable in its environment. Resolves with its standard output.
 */
export async function fortroligCommand(...args) {
  const bin = process.env.BROWSER_FORTROLIG_BIN;
  if (!bin) throw new Error('BROWSER_FORTROLIG_BIN is not set: run the browser tests through tests/browser/run.mjs');
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FORTROLIG_')));
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env: cleanEnv, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`fortrolig ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The server's PostgreSQL database when run.mjs runs a round on PostgreSQL, else ''. */
export const pgDatabase = () => process.env.BROWSER_PG_DATABASE || '';

/**
 * Where the server keeps its data, as `fortrolig` commands take it: `--data DIR`, and with
 * PostgreSQL also `--database-url URL` (commands get no FORTROLIG_* variable; see fortroligCommand).
 */
export function storageArgs() {
  const dir = process.env.BROWSER_DATA_DIR;
  if (!dir) throw new Error('BROWSER_DATA_DIR is not set: run the browser tests through tests/browser/run.mjs');
  return ['--data', dir, ...(pgDatabase() ? ['--database-url', pgDatabase()] : [])];
}

/** Every file under `dir` that holds `needle` (UTF-8), by relative path. */
export function filesHolding(dir, needle) {
  const found = [];
  const want = Buffer.from(needle, 'utf8');
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) {
        try {
          if (fs.readFileSync(p).includes(want)) found.push(path.relative(dir, p));
        } catch { /* a file Chromium holds open or removed meanwhile */ }
      }
    }
  };
  walk(dir);
  return found;
}

/**
 * What the page's origin keeps in the browser's script-reachable storage: keys of localStorage
 * and sessionStorage, IndexedDB databases, Cache Storage caches, service workers (P2: all empty).
 */
export async function storedByOrigin(page) {
  return page.evaluate(async () => ({
    local: Object.keys(localStorage),
    session: Object.keys(sessionStorage),
    indexedDb: (await indexedDB.databases()).map((d) => d.name),
    caches: 'caches' in window ? await caches.keys() : [],
    workers: (await navigator.serviceWorker.getRegistrations()).length,
  }));
}

const SQL_SCRIPT = `
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1], timeout=10)
args = [bytes.fromhex(a[4:]) if isinstance(a, str) and a.startswith('hex:') else a for a in json.loads(sys.argv[3])]
cur = con.execute(sys.argv[2], args)
rows = [[r.hex() if isinstance(r, bytes) else r for r in row] for row in cur.fetchall()] if cur.description else []
changed = cur.rowcount
con.commit()
con.close()
print(json.dumps({'rows': rows, 'changed': changed}))
`;
/** `statement` with its `?` placeholders replaced by SQL literals (PostgreSQL; psql has no parameters). */
function pgInline(statement, args) {
  let i = 0;
  const literal = (a) => {
    if (a === null || a === undefined) return 'NULL';
    if (typeof a === 'number' || typeof a === 'bigint') return String(a);
    if (typeof a === 'boolean') return a ? 'TRUE' : 'FALSE';
    const text = String(a);
    if (text.startsWith('hex:')) {
      if (!/^[0-9a-fA-F]*$/.test(text.slice(4))) throw new Error(`not hex: ${text}`);
      return `'\\x${text.slice(4)}'::bytea`;
    }
    return `'${text.replace(/'/g, "''")}'`;
  };
  const out = statement.replace(/\?/g, () => {
    if (i >= args.length) throw new Error(`too few arguments for: ${statement}`);
    return literal(args[i++]);
  });
  if (i !== args.length) throw new Error(`too many arguments for: ${statement}`);
  return out;
}

/**
 * The same on PostgreSQL, through psql: a SELECT (or WITH) comes back as JSON rows (columns in
 * order; bytea as hex, as from SQLite), anything else reports the rows it changed.
 */
function pgClinicSql(clinic, statement, args) {
  const url = pgDatabase().replace(/\/([^/?]*)(\?.*)?$/, (_, name, query) => `/${name}_c${clinic}${query ?? ''}`);
  const sql = pgInline(statement, args);
  const select = /^\s*(select|with)\b/i.test(sql);
  const wrapped = select ? `SELECT coalesce(json_agg(q), '[]'::json) FROM (${sql}) q` : sql;
  return new Promise((resolve, reject) => {
    execFile('psql', [url, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...(select ? ['-q'] : []), '-c', wrapped], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`SQL on the clinic's PostgreSQL database failed: ${err.message}\n${stderr}`));
      if (!select) return resolve({ rows: [], changed: Number(stdout.trim().match(/(\d+)$/)?.[1] ?? 0) });
      const rows = JSON.parse(stdout.trim() || '[]').map((row) => Object.values(row)
        .map((v) => (typeof v === 'string' && v.startsWith('\\x') ? v.slice(2) : v)));
      resolve({ rows, changed: rows.length });
    });
  });
}

/**
 * One SQL statement on the clinic's database (SQLite under BROWSER_DATA_DIR), through python3's
 * sqlite3 (Node 20 has none); the server keeps WAL mode and a busy timeout, so this is safe beside
 * it. Arguments written `hex:…` are passed as blobs; blobs come back as hex. Resolves with
 * { rows, changed }.
 *
 * When run.mjs runs a round on PostgreSQL (BROWSER_PG_DATABASE), the statement goes to the
 * clinic's PostgreSQL database through psql instead, with the same arguments and results; it must
 * then be SQL both understand (no SQLite-only functions such as hex()), and a row's columns need
 * distinct names.
 */
export async function clinicSql(clinic, statement, ...args) {
  if (pgDatabase()) return pgClinicSql(clinic, statement, args);
  const dir = process.env.BROWSER_DATA_DIR;
  if (!dir) throw new Error('BROWSER_DATA_DIR is not set: run the browser tests through tests/browser/run.mjs');
  const db = path.join(dir, 'clinics', `${clinic}.db`);
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', SQL_SCRIPT, db, statement, JSON.stringify(args)], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`SQL on ${db} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/**
 * A new member of staff with `role` (`fortrolig admin invite` beside the running server), who
 * opens the invitation in browser `b` (which gets a virtual authenticator) and enrols a passkey.
 * On return `b` is in the workspace, logged in at level high. Returns the staff id.
 */
export async function inviteAndEnrol(b, name, role) {
  const E = env();
  const out = await fortroligCommand('admin', 'invite', ...storageArgs(), '--clinic', E.clinic,
    '--name', name, '--role', role, '--url', E.base);
  const staff = out.match(/^staff (\S+) added to clinic/m)?.[1];
  const link = out.match(/^(\S+\/k\/\d{9}\/aktiver)#(\S+)$/m);
  if (!staff || !link) throw new Error(`admin invite printed no staff id or link:\n${out}`);
  b.authenticator = await virtualAuthenticator(b.page);
  await b.page.goto(link[0]);
  await b.page.getByRole('button', { name: 'Lag passnøkkel' }).click();
  const workspace = `${E.base}/k/${E.clinic}/ansatt/`;
  try {
    await b.page.waitForURL(workspace, { timeout: 10_000 });
  } catch {
    throw new Error(`enrolment did not reach the workspace; at ${b.page.url()}: ${await mainText(b.page).catch(() => '')}`);
  }
  return staff;
}
