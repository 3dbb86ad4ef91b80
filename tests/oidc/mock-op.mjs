// Local OpenID Connect provider for Fortrolig's tests, set up like ID-porten
// (patients) or HelseID (health personnel). Real protocol (oidc-provider 9),
// headless auto-login. Usage:
//   node tests/oidc/mock-op.mjs --port PORT --profile idporten|helseid --clients FILE
// Prints exactly `ready http://127.0.0.1:PORT` on stdout; everything else goes to stderr.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import Provider, { errors, interactionPolicy } from 'oidc-provider';

// oidc-provider prints NOTICEs with console.info (stdout); keep stdout for the ready line.
console.log = console.info = (...a) => console.error(...a);

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, profile: { type: 'string', default: 'idporten' }, clients: { type: 'string' } },
});
const port = Number(args.port);
if (!Number.isInteger(port) || port <= 0 || !['idporten', 'helseid'].includes(args.profile) || !args.clients) {
  console.error('usage: node mock-op.mjs --port PORT --profile idporten|helseid --clients FILE');
  process.exit(2);
}
const HELSEID = args.profile === 'helseid';
const issuer = `http://127.0.0.1:${port}`;
const envInt = (name, dflt) => Number(process.env[name] ?? dflt);
const TOKEN_TTL = envInt('MOCK_OP_TOKEN_TTL', 60); // id_token and access token, seconds
const CODE_TTL = envInt('MOCK_OP_CODE_TTL', 60); // authorization code, seconds
// Client assertions whose exp lies further ahead than this are refused. HelseID's
// documented limit is 60 s; ID-porten documents none, 120 s here is our own choice.
const ASSERTION_MAX_EXP = envInt('MOCK_OP_ASSERTION_MAX_EXP', HELSEID ? 60 : 120);
const DEFAULT_PID = '01017040088';
// PAR is offered unless MOCK_OP_PAR=0 (a provider without PAR, for the front-channel path).
const OFFER_PAR = process.env.MOCK_OP_PAR !== '0';
// A provider that misbehaves, for the client's negative tests: `tampered` changes the
// person in every id_token but keeps the provider's signature (a forged token);
// `expired` signs every id_token properly but with a lifetime that ended 5 minutes ago.
const ID_TOKEN_MODE = process.env.MOCK_OP_ID_TOKEN ?? 'valid';
const TAMPERED_PID = '31129956715';
// MOCK_OP_LOGIN_PAGE=1: a login without a person shows a page to pick one (like ID-porten's
// TestID), for tests in a real browser. Otherwise such a login is the default person at once.
const LOGIN_PAGE = process.env.MOCK_OP_LOGIN_PAGE === '1';
if (!['valid', 'tampered', 'expired'].includes(ID_TOKEN_MODE)) {
  console.error('MOCK_OP_ID_TOKEN must be valid, tampered or expired');
  process.exit(2);
}

// ---- profiles ---------------------------------------------------------------
const H = 'helseid://claims/';
const profile = HELSEID ? {
  // HelseID's own public docs treat acr_values as an IdP filter ("Level4"/"High",
  // "idp:…", "amr:…"); the level actually reached is in identity/security_level.
  acrValues: ['Level3', 'Level4'],
  acrAlias: { Substantial: 'Level3', High: 'Level4' },
  amr: ['external'], // what the HelseID federation puts in amr for IdP logins
  routes: { authorization: '/connect/authorize', token: '/connect/token', pushed_authorization_request: '/connect/par',
    userinfo: '/connect/userinfo', end_session: '/connect/endsession', jwks: '/.well-known/openid-configuration/jwks',
    revocation: '/connect/revocation', introspection: '/connect/introspect' },
  claims: {
    // client (organisation) claims are always issued, as HelseID does
    openid: ['sub', 'acr', 'amr', `${H}client/claims/orgnr_parent`, `${H}client/claims/orgnr_child`, `${H}client/client_name`],
    profile: ['name', 'given_name', 'family_name'],
    'helseid://scopes/identity/pid': [`${H}identity/pid`],
    'helseid://scopes/identity/pid_pseudonym': [`${H}identity/pid_pseudonym`],
    'helseid://scopes/identity/security_level': [`${H}identity/security_level`],
    'helseid://scopes/identity/assurance_level': [`${H}identity/assurance_level`],
    'helseid://scopes/identity/network': [`${H}identity/network`],
    'helseid://scopes/identity/all': ['pid', 'pid_pseudonym', 'security_level', 'assurance_level', 'network'].map((c) => `${H}identity/${c}`),
    'helseid://scopes/hpr/hpr_number': [`${H}hpr/hpr_number`],
  },
} : {
  acrValues: ['idporten-loa-substantial', 'idporten-loa-high'], // lowest first: default = lowest
  acrAlias: {},
  amr: ['TestID'],
  routes: { authorization: '/authorize', token: '/token', pushed_authorization_request: '/par', userinfo: '/userinfo',
    end_session: '/logout', jwks: '/jwks.json', revocation: '/token/revoke', introspection: '/token/introspect' },
  claims: { openid: ['sub', 'acr', 'amr', 'pid', 'locale'], profile: ['pid', 'locale'] },
};

// acr for a request: first value of acr_values that this profile knows, else the lowest.
function pickAcr(acrValues) {
  for (const v of String(acrValues ?? '').split(' ')) {
    const acr = profile.acrAlias[v] ?? v;
    if (profile.acrValues.includes(acr)) return acr;
  }
  return profile.acrValues[0];
}
// login_hint -> accountId: "PID" (idporten) or "PID" / "PID:HPR" (helseid).
const hintPattern = HELSEID ? /^\d{11}(:\d{1,9})?$/ : /^\d{11}$/;
const accountFor = (hint) => (hint === undefined || hint === '' ? DEFAULT_PID : hint);
// Without login_hint, the cookie `mock_op_login_hint` (on the provider's origin) stands in for
// it: a browser test cannot add login_hint to a login its client starts inside a redirect chain
// (a step-up), so it names the person with this cookie instead.
const cookieHint = (req) => /(?:^|;\s*)mock_op_login_hint=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
const loginHint = (params, req) => params.login_hint ?? cookieHint(req);
const sha = (s) => crypto.createHash('sha256').update(s).digest('base64url');
const salt = crypto.randomBytes(16).toString('hex');
// locale (ui_locales) and acr of the last login per accountId, for claims issued later at /token
const lastLogin = new Map();

// ---- clients ----------------------------------------------------------------
const fileClients = JSON.parse(fs.readFileSync(args.clients, 'utf8'));
const orgByClient = new Map();
const clients = fileClients.map(({ orgnr_parent, orgnr_child, ...c }) => {
  orgByClient.set(c.client_id, { parent: orgnr_parent ?? '912159523', child: orgnr_child ?? '922734046' });
  const hosts = new Set((c.redirect_uris ?? []).map((u) => new URL(u).host));
  return {
    response_types: ['code'],
    grant_types: ['authorization_code'],
    require_auth_time: true, // auth_time in every id_token, as ID-porten
    // sub is pairwise (per client) like ID-porten's; oidc-provider needs a
    // sector_identifier_uri for several redirect hosts, so fall back to public then.
    subject_type: hosts.size === 1 ? 'pairwise' : 'public',
    ...c,
    token_endpoint_auth_method: 'private_key_jwt',
  };
});

// ---- provider -----------------------------------------------------------------
const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const policy = interactionPolicy.base();
// Log in again when the request names another person or a higher acr than the SSO
// session has (one browser can log in as several test users, or step up). A lower
// requested acr reuses the session and returns the session's (higher) acr.
policy.get('login').checks.push(new interactionPolicy.Check('mock_relogin', 'login_hint or acr differs from session',
  'login_required', (ctx) => {
    const { session, params } = ctx.oidc;
    if (!session.accountId) return false;
    const hint = loginHint(params, ctx.req);
    if (hint !== undefined && hint !== session.accountId) return true;
    return profile.acrValues.indexOf(pickAcr(params.acr_values)) > profile.acrValues.indexOf(session.acr);
  }));

const oidc = new Provider(issuer, {
  clients,
  jwks: { keys: [{ ...signingKey, kid: sha(signingKey.n).slice(0, 16), alg: 'RS256', use: 'sig' }] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  routes: profile.routes,
  acrValues: profile.acrValues,
  responseTypes: ['code'], // authorization code flow only, like ID-porten and HelseID
  scopes: ['openid', 'profile'],
  claims: profile.claims,
  conformIdTokenClaims: false, // scope claims (pid, HelseID claims) go in the id_token, as the real OPs do
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier: (ctx, accountId, client) => sha(`${client.sectorIdentifier}|${accountId.split(':')[0]}|${salt}`),
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'RS256'], idTokenSigningAlgValues: ['RS256'] },
  async assertJwtClientAuthClaimsAndHeader(ctx, claims) {
    if (claims.exp - Math.floor(Date.now() / 1000) > ASSERTION_MAX_EXP) {
      throw new errors.InvalidClientAuth(`client_assertion exp must be at most ${ASSERTION_MAX_EXP}s ahead`);
    }
  },
  pkce: { required: () => true }, // oidc-provider 9 only knows S256
  features: {
    devInteractions: { enabled: false },
    pushedAuthorizationRequests: { enabled: OFFER_PAR, requirePushedAuthorizationRequests: process.env.MOCK_OP_REQUIRE_PAR === '1' },
    rpInitiatedLogout: { enabled: true, logoutSource },
    dPoP: { enabled: HELSEID }, // optional here; HelseID's APIs require it
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  ttl: {
    AccessToken: TOKEN_TTL, IdToken: TOKEN_TTL, AuthorizationCode: CODE_TTL,
    Interaction: 600, Session: 7200, Grant: 7200, PushedAuthorizationRequest: 120, // ID-porten answers expires_in 120
  },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, accountId) {
    const [pid, hpr] = accountId.split(':');
    return {
      accountId,
      async claims() {
        const last = lastLogin.get(accountId) ?? {};
        if (!HELSEID) return { sub: accountId, pid, locale: last.locale ?? 'nb' };
        const level = ctx.oidc.entities.AuthorizationCode?.acr ?? last.acr ?? 'Level3'; // the code's acr at /token
        const org = orgByClient.get(ctx.oidc.client?.clientId) ?? {};
        return {
          sub: accountId,
          name: 'Test Helsepersonell', given_name: 'Test', family_name: 'Helsepersonell',
          [`${H}identity/pid`]: pid,
          [`${H}identity/pid_pseudonym`]: sha(`${pid}|${salt}`),
          [`${H}identity/security_level`]: level === 'Level4' ? '4' : '3',
          [`${H}identity/assurance_level`]: level === 'Level4' ? 'high' : 'substantial',
          [`${H}identity/network`]: 'internett',
          ...(hpr ? { [`${H}hpr/hpr_number`]: hpr } : {}),
          [`${H}client/claims/orgnr_parent`]: org.parent,
          [`${H}client/claims/orgnr_child`]: org.child,
          [`${H}client/client_name`]: ctx.oidc.client?.clientId,
        };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>mock-op error</title><pre>${Object.entries(out)
      .map(([k, v]) => `${k}: ${String(v).replace(/[<>&"]/g, '')}`).join('\n')}</pre>`;
  },
});
// sid in every id_token (as asked for this mock; ID-porten sends it to clients registered with
// frontchannel_logout_session_required). oidc-provider would only do so for back-channel logout clients.
oidc.Client.prototype.includeSid = () => true;
oidc.on('server_error', (ctx, err) => console.error('mock-op server_error:', err));

// RP-initiated logout: no confirmation page. The form auto-submits (browser);
// headless clients POST its hidden fields (xsrf, logout=yes) to its action URL.
async function logoutSource(ctx, form) {
  ctx.body = `<!DOCTYPE html><title>Logout</title>
${form.replace('</form>', '<input type="hidden" name="logout" value="yes"/><noscript><button>Logg ut</button></noscript></form>')}
<script>document.getElementById('op.logoutForm').submit()</script>`;
}

// ---- headless interactions -------------------------------------------------------
async function interaction(req, res) {
  const d = await oidc.interactionDetails(req, res);
  const { prompt, params } = d;
  if (prompt.name === 'login') {
    // The person may also be chosen on the login page itself (`?login_hint=` on the
    // interaction URL), as on ID-porten's TestID page: a pushed request (PAR) cannot be
    // changed on the way, and a server that starts the login sends no hint.
    const chosen = new URL(req.url, issuer).searchParams.get('login_hint');
    if (LOGIN_PAGE && chosen === null && loginHint(params, req) === undefined) {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8"><title>TestID (mock-op)</title></head>
<body><main><h1>Velg testperson</h1><form method="get" action="/interaction/${encodeURIComponent(d.uid)}">
<label for="pid">Fødselsnummer</label> <input id="pid" name="login_hint" inputmode="numeric" autocomplete="off">
<button type="submit">Logg inn</button></form></main></body></html>`);
      return undefined;
    }
    const accountId = accountFor(chosen ?? loginHint(params, req));
    if (!hintPattern.test(accountId)) {
      // `fail` (or any malformed hint): the user "cancels" -> error=access_denied at the client
      return oidc.interactionFinished(req, res,
        { error: 'access_denied', error_description: 'End-User aborted the login (mock-op)' }, { mergeWithLastSubmission: false });
    }
    const ui = String(params.ui_locales ?? '').split(' ').find((l) => ['nb', 'nn', 'en', 'se'].includes(l));
    const acr = pickAcr(params.acr_values);
    lastLogin.set(accountId, { locale: ui ?? 'nb', acr });
    return oidc.interactionFinished(req, res,
      { login: { accountId, acr, amr: profile.amr, remember: true } },
      { mergeWithLastSubmission: false });
  }
  // consent: grant exactly what is missing (scopes, claims, resource scopes)
  const { details } = prompt;
  const grant = d.grantId ? await oidc.Grant.find(d.grantId)
    : new oidc.Grant({ accountId: d.session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return oidc.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}

// ---- misbehaviour (MOCK_OP_ID_TOKEN) ---------------------------------------------
const signingPrivate = crypto.createPrivateKey({ key: signingKey, format: 'jwk' });
const b64json = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function misbehave(idToken) {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (ID_TOKEN_MODE === 'tampered') {
    if (HELSEID) claims[`${H}identity/pid`] = TAMPERED_PID; else claims.pid = TAMPERED_PID;
    return `${header}.${b64json(claims)}.${signature}`;
  }
  const now = Math.floor(Date.now() / 1000);
  claims.iat = now - 420;
  claims.exp = now - 300;
  const input = `${header}.${b64json(claims)}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), signingPrivate).toString('base64url')}`;
}
// Rewrites the id_token in a token response on its way out (Koa ends with the JSON text).
function rewriteIdToken(res) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    let out = chunk;
    try {
      const body = res.statusCode === 200 && chunk ? JSON.parse(String(chunk)) : undefined;
      if (body?.id_token) {
        body.id_token = misbehave(body.id_token);
        out = JSON.stringify(body);
        if (!res.headersSent) res.setHeader('content-length', Buffer.byteLength(out));
      }
    } catch (err) {
      console.error('mock-op misbehave:', err.message);
    }
    return end(out, ...rest);
  };
}

function postAsGet(req, res, pathname) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    body += chunk;
    if (body.length > 64 * 1024) req.destroy();
  });
  req.on('end', () => {
    req.method = 'GET';
    req.url = `${pathname}?${body}`;
    delete req.headers['content-type'];
    delete req.headers['content-length'];
    callback(req, res);
  });
}

const callback = oidc.callback();
const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, issuer);
  if (ID_TOKEN_MODE !== 'valid' && req.method === 'POST' && pathname === profile.routes.token) {
    rewriteIdToken(res);
  }
  if (req.method === 'POST' && pathname === profile.routes.end_session) {
    // ID-porten recommends POST for logout. oidc-provider only takes POST here with
    // SameSite=None cookies (which need https), so the form is handed on as a GET.
    return postAsGet(req, res, pathname);
  }
  if (!req.url.startsWith('/interaction/')) return callback(req, res);
  return interaction(req, res).catch((err) => {
    console.error('mock-op interaction error:', err.name, err.message);
    if (!res.headersSent) { res.statusCode = 400; res.end(`interaction error: ${err.message}`); }
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`ready ${issuer}\n`));
server.on('error', (err) => { console.error('mock-op:', err.message); process.exit(1); });
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { server.close(() => process.exit(0)); server.closeAllConnections(); setTimeout(() => process.exit(0), 500).unref(); });
}
