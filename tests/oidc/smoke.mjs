// Self-test of mock-op.mjs without a browser: node tests/oidc/smoke.mjs
// Runs the code flow + PKCE + private_key_jwt (ES256) against both profiles with
// plain fetch. Last line: "N passed, M failed"; exit code 1 on any failure.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
// Each provider gets up to three starts of 10 s (see startOp), so the whole run is bounded
// by a minute even when a start hangs.
const deadline = setTimeout(() => { check('smoke finished within 60 s', false); finish(); }, 60_000);
let passed = 0; let failed = 0;
function check(name, ok, detail) {
  if (ok) passed += 1; else failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || detail === undefined ? '' : ` -- ${JSON.stringify(detail)}`}`);
}

// ---- client key and clients file -----------------------------------------------
const b64u = (b) => Buffer.from(b).toString('base64url');
const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }); // to show RS256 assertions work too
const KID = 'smoke-es256';
const CLIENT = 'fortrolig-smoke';
const REDIRECT = 'http://127.0.0.1:3999/auth/callback';
const POST_LOGOUT = 'http://127.0.0.1:3999/';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mock-op-'));
const clientsFile = path.join(tmp, 'clients.json');
fs.writeFileSync(clientsFile, JSON.stringify([{
  client_id: CLIENT, redirect_uris: [REDIRECT], post_logout_redirect_uris: [POST_LOGOUT],
  jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'ES256', use: 'sig' },
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'smoke-rs256', alg: 'RS256', use: 'sig' }] },
}]));

function sign(payload, alg = 'ES256') {
  const input = `${b64u(JSON.stringify({ alg, kid: alg === 'ES256' ? KID : 'smoke-rs256', typ: 'JWT' }))}.${b64u(JSON.stringify(payload))}`;
  const key = alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : rsa.privateKey; // JWS ES256 = raw r||s
  return `${input}.${b64u(crypto.sign('sha256', Buffer.from(input), key))}`;
}
const now = () => Math.floor(Date.now() / 1000);
const assertion = (aud, extra = {}, alg = 'ES256') => sign({
  iss: CLIENT, sub: CLIENT, aud, jti: crypto.randomUUID(), iat: now(), exp: now() + 30, ...extra,
}, alg);
const clientAuth = (aud, extra, alg) => ({
  client_id: CLIENT,
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: assertion(aud, extra, alg),
});

// ---- start two providers ---------------------------------------------------------------
const children = [];
async function freePort() {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
}
/**
 * A provider of `profile`. One that does not print its ready line within 10 s is killed and
 * started again on a fresh port, at most three tries: on a loaded machine node has once sat
 * idle before listening (the browser harness and the Rust `MockOp` do the same).
 */
async function startOp(profile) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOpOnce(profile);
    } catch (err) {
      if (attempt >= 3) throw err;
      console.log(`note ${profile}: ${err.message}; starting it again (try ${attempt + 1} of 3)`);
    }
  }
}

async function startOpOnce(profile) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(here, 'mock-op.mjs'), '--port', String(port), '--profile', profile, '--clients', clientsFile],
    // defaults only: drop MOCK_OP_* settings from the caller's environment
    { stdio: ['ignore', 'pipe', 'pipe'], env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MOCK_OP_'))) });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.out = '';
  let timer;
  const line = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { child.out += d; if (child.out.includes('\n')) resolve(child.out); });
    child.on('exit', (code) => reject(new Error(`mock-op ${profile} exited ${code}: ${stderr}`)));
    timer = setTimeout(() => {
      children.splice(children.indexOf(child), 1);
      child.kill('SIGKILL');
      reject(new Error(`mock-op ${profile} not ready in 10 s`));
    }, 10_000);
  }).finally(() => clearTimeout(timer));
  const issuer = `http://127.0.0.1:${port}`;
  check(`${profile}: stdout is exactly the ready line`, line === `ready ${issuer}\n`, line);
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  return { profile, issuer, meta };
}

// ---- a browser stand-in: manual redirects + cookie jar -----------------------------------
function jar() {
  const cookies = new Map();
  return {
    async fetch(url, init = {}) {
      const res = await fetch(url, { ...init, redirect: 'manual',
        headers: { ...init.headers, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const c of res.headers.getSetCookie()) {
        const [pair, ...attrs] = c.split(';');
        const i = pair.indexOf('=');
        const expired = attrs.some((a) => /expires=.*1970/i.test(a)) || i === pair.length - 1;
        if (expired) cookies.delete(pair.slice(0, i)); else cookies.set(pair.slice(0, i), pair.slice(i + 1));
      }
      return res;
    },
  };
}
// An auto-submitting HTML form (what a browser's JS would POST): action + hidden fields.
function autoForm(html) {
  const action = html.match(/<form[^>]*method="post"[^>]*action="([^"]+)"/)?.[1];
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  return action && { action, body: new URLSearchParams(fields) };
}
// Follow Location headers (and auto-submit forms, used by oidc-provider when the
// account in the SSO session changes) until the OP sends the browser back to REDIRECT.
async function follow(browser, url) {
  let init = {};
  for (let hop = 0; hop < 12; hop += 1) {
    const res = await browser.fetch(url, init);
    const loc = res.headers.get('location');
    init = {};
    if (!loc) {
      const text = await res.text();
      const form = autoForm(text);
      if (!form) throw new Error(`no redirect from ${url.split('?')[0]}: ${res.status} ${text.slice(0, 300)}`);
      url = form.action; init = { method: 'POST', body: form.body };
      continue;
    }
    url = new URL(loc, url).href;
    if (url.startsWith(REDIRECT)) return new URL(url).searchParams;
  }
  throw new Error('too many redirects');
}

const pkce = () => { const verifier = b64u(crypto.randomBytes(32)); return { verifier, challenge: b64u(crypto.createHash('sha256').update(verifier).digest()) }; };
async function authorize(op, { browser = jar(), par = false, ...extra }) {
  const { verifier, challenge } = pkce();
  const state = b64u(crypto.randomBytes(12)); const nonce = b64u(crypto.randomBytes(12));
  const params = { response_type: 'code', client_id: CLIENT, redirect_uri: REDIRECT, scope: 'openid', state, nonce,
    code_challenge: challenge, code_challenge_method: 'S256', ...extra };
  let url;
  if (par) {
    // PAR: all parameters + client auth go to the PAR endpoint; /authorize gets only client_id + request_uri.
    const res = await fetch(op.meta.pushed_authorization_request_endpoint, { method: 'POST',
      body: new URLSearchParams({ ...params, ...clientAuth(op.issuer) }) });
    const body = await res.json();
    check(`${op.profile}: PAR returns 201 with request_uri`, res.status === 201 && body.request_uri?.startsWith('urn:'), body);
    url = `${op.meta.authorization_endpoint}?${new URLSearchParams({ client_id: CLIENT, request_uri: body.request_uri })}`;
  } else {
    url = `${op.meta.authorization_endpoint}?${new URLSearchParams(params)}`;
  }
  const cb = await follow(browser, url);
  check(`${op.profile}: callback has our state and iss (RFC 9207)`, cb.get('state') === state && cb.get('iss') === op.issuer, Object.fromEntries(cb));
  return { cb, verifier, nonce, browser };
}
const tokenRequest = (op, code, verifier, aud, alg) => fetch(op.meta.token_endpoint, { method: 'POST', body: new URLSearchParams({
  grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, ...clientAuth(aud, {}, alg) }) });

async function verifyIdToken(op, jwt) {
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const { keys } = await (await fetch(op.meta.jwks_uri)).json();
  const jwk = keys.find((k) => k.kid === header.kid);
  const ok = header.alg === 'RS256' && jwk
    && crypto.verify('sha256', Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
  check(`${op.profile}: id_token RS256 signature verifies with jwks_uri`, ok, header);
  return JSON.parse(Buffer.from(p, 'base64url'));
}

// ---- tests ---------------------------------------------------------------------------------------
async function idporten(op) {
  check('idporten: discovery acr/PAR/PKCE/auth method', op.meta.acr_values_supported.join(' ') === 'idporten-loa-substantial idporten-loa-high'
    && op.meta.pushed_authorization_request_endpoint === `${op.issuer}/par` && op.meta.code_challenge_methods_supported.join() === 'S256'
    && op.meta.token_endpoint_auth_methods_supported.join() === 'private_key_jwt' && !!op.meta.end_session_endpoint, op.meta);

  // 1. front-channel flow at idporten-loa-high
  const { cb, verifier, nonce, browser } = await authorize(op, { acr_values: 'idporten-loa-high', login_hint: '21879498012', ui_locales: 'nn' });
  const res = await tokenRequest(op, cb.get('code'), verifier, op.issuer);
  const tok = await res.json();
  check('idporten: token endpoint 200 with private_key_jwt aud=issuer', res.status === 200 && tok.id_token && tok.access_token, tok);
  const c = await verifyIdToken(op, tok.id_token);
  check('idporten: id_token pid/acr/amr/nonce/aud/iss', c.pid === '21879498012' && c.acr === 'idporten-loa-high' && c.amr?.[0] === 'TestID'
    && c.nonce === nonce && c.aud === CLIENT && c.iss === op.issuer, c);
  check('idporten: id_token sid/locale, pairwise sub, 60 s lifetime', !!c.sid && c.locale === 'nn' && c.sub !== c.pid && c.exp - c.iat === 60, c);
  const ui = await (await fetch(op.meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } })).json();
  check('idporten: userinfo returns pid', ui.pid === '21879498012' && ui.sub === c.sub, ui);

  // 2. the code is single use
  const replay = await tokenRequest(op, cb.get('code'), verifier, op.issuer);
  const rb = await replay.json();
  check('idporten: replayed code -> 400 invalid_grant', replay.status === 400 && rb.error === 'invalid_grant', rb);

  // 3. client assertion rules
  const a = assertion(op.issuer);
  const send = (client_assertion) => fetch(op.meta.token_endpoint, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code',
    code: 'x', redirect_uri: REDIRECT, code_verifier: verifier, client_id: CLIENT, client_assertion,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' }) }).then((r) => r.json());
  const first = await send(a); const second = await send(a);
  check('idporten: reused client_assertion jti -> invalid_client', first.error === 'invalid_grant' && second.error === 'invalid_client', [first, second]);
  const far = await send(assertion(op.issuer, { exp: now() + 600 }));
  check('idporten: client_assertion exp 600 s ahead -> invalid_client', far.error === 'invalid_client', far);
  const wrongAud = await send(assertion('https://idporten.no'));
  check('idporten: client_assertion with foreign aud -> invalid_client', wrongAud.error === 'invalid_client', wrongAud);

  // 4. SSO session: another login_hint in the same browser logs in again
  const again = await authorize(op, { browser, login_hint: '01017040088' });
  const t2 = await (await tokenRequest(op, again.cb.get('code'), again.verifier, op.meta.token_endpoint)).json();
  const c2 = t2.id_token ? JSON.parse(Buffer.from(t2.id_token.split('.')[1], 'base64url')) : t2;
  check('idporten: new login_hint re-logs in; aud=token endpoint accepted', c2.pid === '01017040088' && c2.acr === 'idporten-loa-substantial', c2);

  // 5. RP-initiated logout (headless: POST the form fields)
  const lo = await browser.fetch(`${op.meta.end_session_endpoint}?${new URLSearchParams({ id_token_hint: t2.id_token, post_logout_redirect_uri: POST_LOGOUT, state: 'bye' })}`);
  const form = autoForm(await lo.text());
  const done = await browser.fetch(form.action, { method: 'POST', body: form.body });
  check('idporten: logout redirects to post_logout_redirect_uri with state', done.headers.get('location') === `${POST_LOGOUT}?state=bye`,
    { status: done.status, location: done.headers.get('location'), form: String(form.body) });

  // 6. PAR, no acr_values -> lowest level
  const p = await authorize(op, { par: true, login_hint: '21879498012' });
  const pt = await (await tokenRequest(op, p.cb.get('code'), p.verifier, op.meta.token_endpoint)).json();
  const pc = pt.id_token ? await verifyIdToken(op, pt.id_token) : pt;
  check('idporten: PAR flow gives pid and default acr substantial', pc.pid === '21879498012' && pc.acr === 'idporten-loa-substantial' && pc.nonce === p.nonce, pc);

  // 7. error path
  const f = await authorize(op, { login_hint: 'fail' });
  check('idporten: login_hint=fail -> error=access_denied', f.cb.get('error') === 'access_denied' && !f.cb.get('code'), Object.fromEntries(f.cb));
}

async function helseid(op) {
  check('helseid: discovery acr and /connect/* endpoints', op.meta.acr_values_supported.join(' ') === 'Level3 Level4'
    && op.meta.token_endpoint === `${op.issuer}/connect/token` && op.meta.pushed_authorization_request_endpoint === `${op.issuer}/connect/par`, op.meta);
  const scope = 'openid profile helseid://scopes/identity/pid helseid://scopes/identity/security_level helseid://scopes/hpr/hpr_number';
  const { cb, verifier, nonce } = await authorize(op, { par: true, scope, acr_values: 'Level4', login_hint: '01017040088:181000001' });
  const res = await tokenRequest(op, cb.get('code'), verifier, op.meta.token_endpoint, 'RS256'); // HelseID: aud = token endpoint
  const tok = await res.json();
  check('helseid: token endpoint 200 (RS256 client_assertion)', res.status === 200 && !!tok.id_token, tok);
  const c = tok.id_token ? await verifyIdToken(op, tok.id_token) : {};
  const H = 'helseid://claims/';
  check('helseid: id_token HPR/pid/security_level/orgnr claims', c[`${H}hpr/hpr_number`] === '181000001' && c[`${H}identity/pid`] === '01017040088'
    && c[`${H}identity/security_level`] === '4' && c[`${H}client/claims/orgnr_parent`] === '912159523' && c.acr === 'Level4'
    && c.nonce === nonce && c.aud === CLIENT && c.iss === op.issuer, c);
}

async function finish() {
  clearTimeout(deadline);
  const exits = await Promise.all(children.map((ch) => new Promise((resolve) => {
    if (ch.exitCode !== null) return resolve(ch.exitCode);
    ch.on('exit', (code, sig) => resolve(code ?? sig)); ch.kill('SIGTERM');
  })));
  if (children.length) check('mock-op exits 0 on SIGTERM', exits.every((e) => e === 0), exits);
  check('mock-op printed nothing on stdout but the ready line', children.every((ch) => /^ready \S+\n$/.test(ch.out)),
    children.map((ch) => ch.out));
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
}

try {
  const [idp, hid] = await Promise.all([startOp('idporten'), startOp('helseid')]);
  await idporten(idp);
  await helseid(hid);
} catch (err) {
  check('smoke ran to the end', false, String(err?.stack ?? err));
}
await finish();
