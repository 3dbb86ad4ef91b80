#!/usr/bin/env node
// Fortrolig's browser tests as one command:
//   node tests/browser/run.mjs            (needs `npm ci` in tests/browser and tests/oidc, a built binary,
//                                          and python3, with which a test ages a stored session)
// Starts the mock ID-porten (tests/oidc/mock-op.mjs) and a Fortrolig server with a clinic and a
// patient in a temporary directory, runs tests/browser/*.test.mjs with Node's test runner (TAP:
// `# pass N` / `# fail M`), and stops everything again, also on failure and on Ctrl-C.
// Exits non-zero on any failure.
//
// Environment:
//   FORTROLIG_BIN     the fortrolig binary (default: debug/fortrolig in $CARGO_TARGET_DIR if set,
//                     as cargo builds it there, else target/debug/fortrolig of this repository)
//   BROWSER_CHROMIUM  Chromium (default /usr/bin/chromium)
//   BROWSER_KEEP=1    keep the temporary directory (logs, data) after the run
//   BROWSER_DATABASE_URL, else PGTEST_URL (scripts/test exports it)
//                     a PostgreSQL server (postgres://user@host:port/db): after the run on SQLite, the
//                     end-to-end messaging test (PG_FILES) runs again against a server storing in a fresh
//                     database there (fb<random>; Fortrolig adds fb…_keyring and fb…_c<org>), all of
//                     which are dropped again with psql afterwards. Unset: SQLite only.
//   BROWSER_TESTS     only the test files whose names contain one of these comma-separated words
import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
// A relative CARGO_TARGET_DIR is relative to where cargo ran; the same working directory is assumed.
const BIN = process.env.FORTROLIG_BIN ? path.resolve(HERE, process.env.FORTROLIG_BIN)
  : path.resolve(process.env.CARGO_TARGET_DIR || path.join(REPO, 'target'), 'debug/fortrolig');
const MOCK_OP = path.join(REPO, 'tests/oidc/mock-op.mjs');
const ARTIFACTS = path.join(REPO, 'target/browser');
const CLINIC = { org: '923456783', name: 'Normland legesenter' };
const PATIENT = { fnr: '21879498012', name: 'Kari Nordmann' };
const CLIENT_ID = 'fortrolig';
const KEY_ID = 'fortrolig-1';
// The PostgreSQL server to run PG_FILES against as well (issue 4: the end-to-end flow on both
// backends; issue 6 item 3: the patient's requests).
const PG_SERVER = process.env.BROWSER_DATABASE_URL || process.env.PGTEST_URL || '';
const PG_FILES = ['messaging-e2e.test.mjs', 'requests.test.mjs'];
// A guard against a hang, not a speed check: the SQLite round takes about 2 minutes on a quiet
// machine and 2.5 on a loaded one, the PostgreSQL round about 45 s more.
const WHOLE_RUN_LIMIT_MS = PG_SERVER ? 420_000 : 300_000;
const START_LIMIT_MS = 20_000; // provider or server not ready in this time: fail

const log = (...a) => console.error('[browser]', ...a);
const execFileP = promisify(execFile);

// The server refuses to start when the environment holds a FORTROLIG_* variable it does not know
// (FORTROLIG_BIN is one), and FORTROLIG_DATABASE_URL etc. would override the config: start the
// binary without any of them.
const serverEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FORTROLIG_')));

const children = new Set(); // { name, proc }
let tmp; // the current round's temporary directory
let pgDatabase; // the current round's PostgreSQL database (postgres://…/fb…), if any
let finishing; // the current round's cleanUp, once begun
let interrupted = false;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// `group`: the child gets its own process group, and stopping it signals the whole group (the
// test runner's workers and their Chromium processes).
function start(name, cmd, args, { env = process.env, logFile, group = false } = {}) {
  const out = fs.openSync(logFile, 'a');
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', out], detached: group });
  fs.closeSync(out);
  const child = { name, proc, logFile, group, exited: null };
  child.exit = new Promise((resolve) => proc.on('exit', (code, sig) => {
    child.exited = { code, signal: sig };
    if (!group) children.delete(child); // a group is deleted once stop() has cleared it
    resolve(child.exited);
  }));
  proc.on('error', (err) => log(`${name}: ${err.message}`));
  children.add(child);
  return child;
}

function sendSignal(child, sig) {
  try {
    if (child.group) process.kill(-child.proc.pid, sig);
    else if (!child.exited) child.proc.kill(sig);
  } catch { /* already gone */ }
}

async function stop(child, graceMs = 5000) {
  if (!child.exited) {
    sendSignal(child, 'SIGTERM');
    const timer = setTimeout(() => { log(`${child.name} did not stop on SIGTERM in ${graceMs} ms; killing it`); sendSignal(child, 'SIGKILL'); }, graceMs);
    await child.exit;
    clearTimeout(timer);
  }
  if (child.group) sendSignal(child, 'SIGKILL'); // whatever is left of its group (browsers of an interrupted test)
  return child.exited;
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Starts the mock provider and resolves with the issuer from its `ready URL` line. A provider
 * that does not say it is ready in time is stopped and started again (at most three tries, on
 * a fresh port): on a loaded machine node has once sat idle before listening, and one such
 * hang must not fail the whole run (the Rust harness does the same, `MockOp`).
 */
async function startProvider(port, clientsFile) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startProviderOnce(attempt === 1 ? port : await freePort(), clientsFile);
    } catch (err) {
      if (attempt >= 3 || interrupted) throw err;
      log(`${err.message}; starting the provider again (try ${attempt + 1} of 3)`);
    }
  }
}

async function startProviderOnce(port, clientsFile) {
  // The person is picked on the provider's page, as on ID-porten's TestID: the login
  // request itself is pushed (PAR) and cannot be changed on the way.
  const op = start('mock-op', process.execPath, [MOCK_OP, '--port', String(port), '--profile', 'idporten', '--clients', clientsFile],
    { logFile: path.join(tmp, 'mock-op.log'), env: { ...process.env, MOCK_OP_LOGIN_PAGE: '1' } });
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    op.proc.stdout.setEncoding('utf8');
    op.proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/^ready (\S+)$/m);
      if (m) resolve(m[1]);
    });
    op.exit.then(({ code, signal }) => reject(new Error(`mock-op exited (code ${code}, signal ${signal}) before it was ready:\n${tail(op.logFile)}`)));
  });
  try {
    return { op, issuer: await withTimeout(ready, START_LIMIT_MS, 'mock-op start') };
  } catch (err) {
    await stop(op, 2000);
    throw err;
  }
}

async function fortrolig(...args) {
  if (pgDatabase) args.push('--database-url', pgDatabase);
  try {
    const { stdout } = await execFileP(BIN, args, { env: serverEnv, timeout: 30_000 });
    return stdout.trim();
  } catch (err) {
    const shown = args.map((a) => (a === pgDatabase ? '<database URL>' : a)).join(' ');
    throw new Error(`fortrolig ${shown} failed: ${err.message.split(pgDatabase || '\0').join('<database URL>')}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

async function waitForHealth(server, url) {
  const until = Date.now() + START_LIMIT_MS;
  for (;;) {
    if (server.exited) throw new Error(`fortrolig serve exited (code ${server.exited.code}) before it answered:\n${tail(server.logFile)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok && (await res.text()).trim() === 'ok') return;
    } catch { /* not listening yet */ }
    if (Date.now() > until) throw new Error(`fortrolig serve did not answer ${url} in ${START_LIMIT_MS} ms:\n${tail(server.logFile)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `url` (postgres://…/db?query) with another database name. */
function withDatabase(url, name) {
  const m = url.match(/^(postgres(?:ql)?:\/\/.*)\/([^/?]*)(\?.*)?$/);
  if (!m) throw new Error(`not a postgres:// URL: ${url.replace(/\/\/[^@/]*@/, '//…@')}`);
  return `${m[1]}/${name}${m[3] ?? ''}`;
}

/**
 * Drops the round's databases (fb… and every fb…_*) with psql, connected to the server's own
 * database as given; without psql it says what is left behind.
 */
async function dropPgDatabases(prefix) {
  const psql = (sql) => execFileP('psql', [PG_SERVER, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { timeout: 30_000 });
  try {
    const { stdout } = await psql(`SELECT datname FROM pg_database WHERE datname = '${prefix}' OR datname LIKE '${prefix}\\_%'`);
    const names = stdout.split('\n').map((n) => n.trim()).filter(Boolean);
    for (const name of names) await psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    log(`dropped the PostgreSQL database(s) ${names.join(', ') || '(none)'}`);
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'psql is not installed' : err.message;
    log(`could not drop the PostgreSQL databases ${prefix}, ${prefix}_*: ${why}; drop them by hand`);
  }
}

async function setUp({ postgres = false } = {}) {
  for (const [what, file] of [['tests/browser', path.join(HERE, 'node_modules/playwright-core')],
    ['tests/oidc', path.join(REPO, 'tests/oidc/node_modules/oidc-provider')]]) {
    if (!fs.existsSync(file)) throw new Error(`${what}: dependencies missing; run \`npm ci\` in ${what} first`);
  }
  if (!fs.existsSync(BIN)) throw new Error(`no fortrolig binary at ${BIN}: build it (cargo build -p fortrolig) or set FORTROLIG_BIN`);
  const chromium = process.env.BROWSER_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(chromium)) throw new Error(`no Chromium at ${chromium}: apt-get install -y chromium`);

  tmp = fs.mkdtempSync(path.join(os.tmpdir(), postgres ? 'fortrolig-browser-pg-' : 'fortrolig-browser-'));
  if (postgres) {
    // A fresh database for this run: [a-z0-9], as Fortrolig requires, and short enough for the
    // names it derives (…_keyring, …_c<org>) to stay within PostgreSQL's 63 characters.
    pgDatabase = withDatabase(PG_SERVER, `fb${Date.now().toString(36)}${crypto.randomBytes(4).toString('hex')}`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.mkdirSync(path.join(tmp, 'chromium'));
  const [opPort, port] = [await freePort(), await freePort()];
  const base = `http://localhost:${port}`;
  const redirect = `${base}/innlogging/idporten/tilbake`;

  // Fortrolig's client key for private_key_jwt (ES256); the provider gets the public half.
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = path.join(tmp, 'idporten-client.p8');
  fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'der' }), { mode: 0o600 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KEY_ID, alg: 'ES256', use: 'sig' };
  const clientsFile = path.join(tmp, 'clients.json');
  fs.writeFileSync(clientsFile, JSON.stringify([{
    client_id: CLIENT_ID,
    redirect_uris: [redirect],
    post_logout_redirect_uris: [`${base}/innlogging/idporten/utlogget`],
    jwks: { keys: [jwk] },
  }], null, 2));

  const { issuer } = await startProvider(opPort, clientsFile);
  log(`mock ID-porten at ${issuer}`);

  const data = path.join(tmp, 'data');
  await fortrolig('clinic', 'create', '--data', data, '--org-number', CLINIC.org, '--name', CLINIC.name);
  const added = await fortrolig('patient', 'add', '--data', data, '--clinic', CLINIC.org, '--fnr', PATIENT.fnr, '--name', PATIENT.name);
  const patientId = added.match(/^patient (\S+) added/m)?.[1];
  if (!patientId) throw new Error(`patient add printed no id: ${added}`);
  let databaseUrlFile = '';
  if (pgDatabase) {
    databaseUrlFile = path.join(tmp, 'database-url');
    fs.writeFileSync(databaseUrlFile, `${pgDatabase}\n`, { mode: 0o600 });
  }

  const config = path.join(tmp, 'fortrolig.toml');
  const q = (s) => JSON.stringify(s); // a TOML basic string is a JSON string for these values
  fs.writeFileSync(config, `[server]
listen = ${q(`127.0.0.1:${port}`)}
[storage]
data_dir = ${q(data)}
${databaseUrlFile ? `database_url_file = ${q(databaseUrlFile)}\n` : ''}[log]
format = "json"
[notices]
sender = "Legekontor"
[idporten]
issuer = ${q(issuer)}
client_id = ${q(CLIENT_ID)}
redirect_url = ${q(redirect)}
client_key_file = ${q(keyFile)}
key_id = ${q(KEY_ID)}
`);
  const server = start('fortrolig', BIN, ['serve', '--config', config], { env: serverEnv, logFile: path.join(tmp, 'server.log') });
  server.proc.stdout.pipe(fs.createWriteStream(path.join(tmp, 'server.log'), { flags: 'a' }));
  await waitForHealth(server, `http://127.0.0.1:${port}/healthz`);
  log(`fortrolig (${BIN}) at ${base} on ${pgDatabase ? `PostgreSQL (database ${new URL(pgDatabase).pathname.slice(1)})` : 'SQLite'} (data and logs in ${tmp})`);
  return { server, base, issuer, patientId };
}

/** The test files of a round: all of them, or only `only`; narrowed by BROWSER_TESTS. */
function testFiles(only) {
  const words = (process.env.BROWSER_TESTS ?? '').split(',').map((w) => w.trim()).filter(Boolean);
  return fs.readdirSync(HERE).filter((f) => f.endsWith('.test.mjs')).sort()
    .filter((f) => !only || only.includes(f))
    .filter((f) => words.length === 0 || words.some((w) => f.includes(w)))
    .map((f) => path.join(HERE, f));
}

function runTests(testEnv, files) {
  if (files.length === 0) throw new Error('no *.test.mjs files in tests/browser');
  const runner = start('node --test', process.execPath,
    // Node applies --test-timeout to each file as a whole too (its subprocess is a test); every test
    // sets its own limit (30 s; 60 s for the end-to-end flow), so this one is only for the files.
    ['--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=100000', ...files],
    { env: { ...process.env, ...testEnv }, logFile: path.join(tmp, 'runner-stderr.log'), group: true });
  runner.proc.stdout.pipe(process.stdout);
  return runner.exit;
}

/** Warnings and errors the server logged during the run (JSON lines), for the report. */
function serverComplaints(file) {
  const out = [];
  for (const line of (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '').split('\n')) {
    try {
      const rec = JSON.parse(line);
      if (/^(WARN|ERROR)$/i.test(rec.level)) out.push(line);
    } catch { /* not JSON */ }
  }
  return out;
}

async function cleanUp() {
  finishing ??= (async () => {
    let ok = true;
    // Test runner first (it holds browsers), then the server, then the provider.
    const order = ['node --test', 'fortrolig', 'mock-op'];
    for (const name of order) {
      for (const child of [...children].filter((c) => c.name === name)) {
        const { code, signal } = await stop(child);
        children.delete(child);
        if (name === 'fortrolig' && code !== 0) {
          log(`fortrolig serve did not exit cleanly on SIGTERM (code ${code}, signal ${signal}):\n${tail(child.logFile)}`);
          ok = false;
        }
      }
    }
    if (tmp) {
      const complaints = serverComplaints(path.join(tmp, 'server.log'));
      if (complaints.length) log(`the server logged ${complaints.length} warning(s)/error(s):\n${complaints.join('\n')}`);
      if (process.env.BROWSER_KEEP === '1') log(`kept ${tmp}`);
      else fs.rmSync(tmp, { recursive: true, force: true });
    }
    if (pgDatabase) {
      if (process.env.BROWSER_KEEP === '1') log(`kept the PostgreSQL database(s) ${new URL(pgDatabase).pathname.slice(1)}*`);
      else await dropPgDatabases(new URL(pgDatabase).pathname.slice(1));
    }
    return ok;
  })();
  return finishing;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    interrupted = true;
    log(`${sig}: stopping`);
    await cleanUp();
    process.exit(130);
  });
}

const watchdog = setTimeout(async () => {
  log(`the whole run took longer than ${WHOLE_RUN_LIMIT_MS / 1000} s; stopping`);
  await cleanUp();
  process.exit(1);
}, WHOLE_RUN_LIMIT_MS);

/** One round: a server on SQLite, or on a fresh PostgreSQL database, and `files` against it. */
async function round(files, { postgres = false } = {}) {
  tmp = undefined;
  pgDatabase = undefined;
  finishing = undefined;
  const started = Date.now();
  let passed = false;
  try {
    const { base, issuer, patientId } = await setUp({ postgres });
    const { code, signal } = await runTests({
      BROWSER_BASE_URL: base,
      BROWSER_CLINIC: CLINIC.org,
      BROWSER_OP_ISSUER: issuer,
      BROWSER_ARTIFACTS: ARTIFACTS,
      BROWSER_PATIENT_FNR: PATIENT.fnr,
      BROWSER_PATIENT_NAME: PATIENT.name,
      BROWSER_PATIENT_ID: patientId, // for commands that name the patient (staff care)
      BROWSER_TMP: path.join(tmp, 'chromium'), // browser profiles: removed with the rest of the run
      BROWSER_DATA_DIR: path.join(tmp, 'data'), // the server's data directory (SQLite; the vault also with PostgreSQL)
      BROWSER_FORTROLIG_BIN: BIN, // the same binary, for tests that run a command beside the server (admin invite)
      BROWSER_BACKEND: postgres ? 'postgres' : 'sqlite',
      BROWSER_PG_DATABASE: pgDatabase ?? '', // the server's PostgreSQL database, for commands and SQL beside it
    }, files);
    passed = code === 0;
    if (code !== 0 && !interrupted) {
      log(`tests failed (runner exit code ${code}${signal ? `, signal ${signal}` : ''})`);
      const stderr = tail(path.join(tmp, 'runner-stderr.log'), 60);
      if (stderr.trim()) log(`test runner stderr:\n${stderr}`);
      log(`server log (last lines):\n${tail(path.join(tmp, 'server.log'), 30)}`);
      log(`mock-op log (last lines):\n${tail(path.join(tmp, 'mock-op.log'), 20)}`);
    }
  } catch (err) {
    log(err.stack || String(err));
    passed = false;
  } finally {
    if (!(await cleanUp())) passed = false;
  }
  log(`${postgres ? 'PostgreSQL' : 'SQLite'} round: ${files.length} file(s), ${passed ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return passed;
}

let exitCode = 1;
try {
  const files = testFiles();
  let ok = files.length > 0 ? await round(files) : (log('BROWSER_TESTS leaves no file for the SQLite round'), true);
  const pgFiles = testFiles(PG_FILES);
  if (PG_SERVER && pgFiles.length > 0 && !interrupted) ok = (await round(pgFiles, { postgres: true })) && ok;
  else if (!PG_SERVER) log('no BROWSER_DATABASE_URL or PGTEST_URL: the PostgreSQL round is skipped');
  exitCode = ok ? 0 : 1;
} catch (err) {
  log(err.stack || String(err));
  exitCode = 1;
} finally {
  clearTimeout(watchdog);
}
process.exit(exitCode);
