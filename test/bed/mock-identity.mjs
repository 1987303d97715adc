#!/usr/bin/env node
/**
 * Stand-in for what a pod on AKS talks to for its identity: AAD Pod Identity's NMI (health
 * endpoint and token interception), the node's IMDS, and (Azure AD Workload Identity) AAD's
 * token endpoint. Its state is changed at run time by the test. Plain JS so it can run as its own
 * process inside a network namespace (`ip netns exec <ns> node mock-identity.mjs ...`).
 * Each rule names the upstream source it follows (aad-pod-identity at its archived head, v1.8.17).
 *
 *   node mock-identity.mjs --nmi HOST:PORT --imds HOST:PORT [--aad HOST:PORT] --control /path/control.sock
 *
 * Prints one JSON line {"nmi":port,"imds":port,"aad":port} on stdout once listening (port 0 = any).
 * `--nmi` is NMI's health port (/healthz); `--imds` is 169.254.169.254:80, where a token request
 * is answered by NMI while its iptables rule intercepts it, else by IMDS.
 *
 * Control API (HTTP over the unix socket, reachable from outside the namespace). STABLE: other
 * suites (test/runtime, test/bed/real-clients) use it; add fields, never change their meaning.
 *   POST /state     JSON merged into the state (arrays and objects replace), answers the new state
 *   GET  /state
 *   POST /sigterm   {windowMs?: 10000}: NMI gets SIGTERM: it removes its iptables rule at once
 *                   (state nmi 'terminating'), keeps answering `Active` for windowMs, then exits
 *                   (state nmi 'down'). pkg/nmi/server/server.go handleTermination: DeleteCustomChain,
 *                   then time.Sleep(10 * time.Second), then os.Exit.
 *   GET  /requests  [{t, at, kind:'nmi'|'token'|'aad', path, metadata, query, by?, status?}]
 *                   t: ms since start; at: epoch ms; by: 'nmi'|'imds' (who answered a token
 *                   request); status: the HTTP status sent (absent while unanswered)
 *   POST /reset     clears the request log
 *
 * State (defaults in DEFAULT_STATE):
 *   nmi:   'active' | 'not-active' | 'down' (connection refused) | 'hang' (never answers)
 *          | 'slow' (Active after nmiDelayMs) | 'terminating' (SIGTERM received: rule removed, still Active)
 *          | 'killed' (SIGKILL, a crash, an OOM kill: nothing listens, and NMI's DNAT rule for
 *          169.254.169.254:80 stays, since only handleTermination (SIGTERM) deletes its chain
 *          (pkg/nmi/server/server.go): token connections are refused, as on a real node)
 *          /healthz answers 200 in both states, body `Active` once the iptables rules are set, else
 *          `Not Active` (pkg/probes/probes.go); any other path 404 (Go's mux).
 *   nmiVersion: '1.8.17'. Before 1.5 NMI has no health endpoint at all (probes were added in
 *          v1.5, commit f9d0f4e2): nothing listens on the health port. Before 1.8.15 NMI ignores
 *          `mi_res_id` (read since commit 9f3411c2, v1.8.15); it always reads `msi_res_id`.
 *   nmiMode: 'standard' | 'managed'. Standard mode (pkg/nmi/standard.go listPodIDsWithRetry)
 *          keeps looking for the pod's assigned identity: 16 tries x 5 s (80 s) while none is in
 *          CREATED state, 20 x 5 s (100 s) once one is, and only then answers 404. The stand-in
 *          holds such a request for nmiRetryMs (or until the client gives up). Managed mode (the
 *          AKS add-on, pkg/nmi/managed.go) answers at once.
 *   nmiRetryMs: 80000 (the CREATED-state window; set 100000 for an identity stuck in CREATED).
 *          cmd/nmi/main.go defaults --retry-attempts-for-created=16, --retry-attempts-for-assigned=4,
 *          --find-identity-retry-interval=5; with no AzureAssignedIdentity at all, or none for the
 *          requested client id, listPodIDsWithRetry gives up at attempt 16 (80 s). The 404's body
 *          is upstream's error text (Go's http.Error: plain text), `... in CREATED state failed
 *          after N attempts, retry duration [S]s ...`, N and S derived from nmiRetryMs.
 *   imds:  'ok' | an HTTP status: what the node's IMDS itself answers to a token request
 *          (whoever asks). Not intercepted, the pod sees it at once (JSON body). Through NMI
 *          (pkg/nmi/server/server.go GetTokens -> adal), adal's retryForIMDS (go-autorest adal
 *          v0.9.x token.go) retries 404, 408, 410, 429 and 5xx 5 times with backoff 2+6+14+30+60
 *          = 112 s (imdsRetryMs), then NMI answers 403 with adal's error as it is, `adal: Refresh
 *          request failed. Status Code = 'N'. Response body: ... Endpoint ...` (plain text, as the
 *          real NMI v1.8.17 sent it); other statuses: 403 at once.
 *          Unlike `token`, this is upstream's path, so a bounded check sees a timeout.
 *   imdsRetryMs: 112000.
 *   intercept: 'auto' | true | false. Whether NMI's iptables rule sends 169.254.169.254:80 to
 *          NMI. 'auto': on while nmi is 'active', 'slow', 'hang' or 'killed'; off while
 *          'not-active' (the rules are not set yet: that is what Not Active means), 'terminating'
 *          (removed on SIGTERM) and 'down' (a graceful stop: removed at shutdown). true with nmi
 *          'down' is 'killed': the rule left behind sends token connections to a port nothing
 *          listens on, so they are refused (curl exit 7).
 *   podIdentities: identities bound AND assigned to the pod (AzureIdentity + binding + an
 *          AzureAssignedIdentity in ASSIGNED state), each {clientId, objectId, resourceId}.
 *          [] = the pod is not bound (no binding, or the aadpodidbinding label is missing).
 *   nodeIdentities: the user-assigned identities on the node's VM/VMSS, which IMDS can issue.
 *          Default: the kubelet identity and the pod's identity (MIC assigns it to the node).
 *          Remove the pod's identity to model "identity removed from the VMSS".
 *   podInCache: true. false: NMI cannot match the caller's IP to a pod (its pod informer cannot
 *          reach or list the API server): GetPodInfo fails after 4 retries of 300 ms and NMI
 *          answers 500 `pod list is empty` (server.go msiHandler, pkg/k8s/client.go getPodListRetry).
 *   pod:   'default/app': the pod's namespace/name, as NMI's messages name it.
 *   token: 'ok' (the upstream rules below decide) | 'hang' | 'slow' (rules after tokenDelayMs)
 *          | 'bad-body' (200 without access_token) | an HTTP status number: the raw answer the
 *          pod sees whoever answers (IMDS 410 while updating, 429 throttled, 5xx), for scenarios
 *          about the checks' reaction to a status, not about who sends it.
 *   tokenVersion: '1.0' | '2.0'. The access token's claims: v1.0 carries `appid`, v2.0 `azp`
 *          (Microsoft identity platform access token claims reference).
 *   identity: null | {appid?, oid?}. A stand-in override, NOT upstream behaviour: when set,
 *          every issued token carries these claims whatever was selected. Kept for tests written
 *          before the selection rules; new scenarios use podIdentities / nodeIdentities.
 *   aad:   'ok' | 'hang' | 400 (AADSTS70021, no matching federated identity credential) | 401
 *          (AADSTS700027, assertion rejected) | 429 | 500 | 503, with AAD's error bodies.
 *
 * Token requests, state 'ok' (path /metadata/identity/oauth2/token, `metadata` part any case):
 * - Both NMI and IMDS answer 400 {"error":"invalid_request","error_description":"Required
 *   metadata header not specified"} without `Metadata: true` (server.go metadataNotSpecifiedError;
 *   IMDS docs), and 400 without `resource`.
 * - NMI (intercepting): 500 when the pod is not in its cache; selection (standard.go
 *   GetIdentities): no selector -> the first pod identity; `client_id` -> the one with that
 *   client id; else `msi_res_id` (or `mi_res_id` from 1.8.15) -> the one with that resource id;
 *   `object_id` is never read (server.go parseTokenRequest), so a request with only object_id
 *   gets the first identity. No match, or no identity: 404 (after the standard-mode retry
 *   window). Then NMI gets the identity's token from IMDS (GetTokens ->
 *   GetServicePrincipalTokenFromMSIWithUserAssignedID): an identity not on the node makes IMDS
 *   answer 400 "Identity not found" and NMI 403 with adal's error text.
 * - IMDS (not intercepted; managed identities "How to use ... on a VM to acquire an access
 *   token", error handling): selectors client_id, object_id, msi_res_id (and mi_res_id); a named
 *   identity not on the node: 400 "Identity not found"; none named: the only identity, or 400
 *   when there are several. IMDS answers with the identity the selector names: not "the node's
 *   identity", unless the node's is the one named or the only one.
 * AAD (state 'ok') checks the request as AAD does for a client-credentials grant with a client
 * assertion: POST /<tenant>/oauth2/v2.0/token, form client_id, client_assertion (a JWT),
 * client_assertion_type jwt-bearer, grant_type client_credentials, scope; else 400 AADSTS900144.
 * It does not check the assertion's exp: the bed's clock is virtual, the mock's is not (the
 * checks' own exp test is what the bed observes). test/runtime/aad.ts is the in-process AAD
 * stand-in that does check exp, subject and client id.
 */
import http from 'node:http';
import fs from 'node:fs';

/** The pod's identity and the node's kubelet identity (test/bed/bed.ts exports the same; bed.test checks they agree). */
const POD_IDENTITY = {
  clientId: '11111111-1111-1111-1111-111111111111',
  objectId: '22222222-2222-2222-2222-222222222222',
  resourceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders',
};
const NODE_IDENTITY = {
  clientId: '99999999-9999-9999-9999-999999999999',
  objectId: '88888888-8888-8888-8888-888888888888',
  resourceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/MC_rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-agentpool',
};
const TENANT = '33333333-3333-3333-3333-333333333333';

const DEFAULT_STATE = {
  nmi: 'active',
  nmiDelayMs: 0,
  nmiVersion: '1.8.17',
  nmiMode: 'standard',
  nmiRetryMs: 80_000,
  intercept: 'auto',
  imds: 'ok',
  imdsRetryMs: 112_000,
  podIdentities: [POD_IDENTITY],
  nodeIdentities: [NODE_IDENTITY, POD_IDENTITY],
  podInCache: true,
  pod: 'default/app',
  token: 'ok',
  tokenDelayMs: 0,
  tokenVersion: '1.0',
  identity: undefined,
  aad: 'ok',
};

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** AAD's error bodies (first sentence, then trace ids, as AAD writes them). */
const AAD_ERRORS = {
  400: ['invalid_request', 'AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: \'https://oidc.example/\'. Assertion Subject: \'system:serviceaccount:default:app\'. Assertion Audience: \'api://AzureADTokenExchange\'.'],
  401: ['invalid_client', 'AADSTS700027: Client assertion failed signature validation.'],
  429: ['temporarily_unavailable', 'AADSTS50196: The server terminated an operation because it encountered a client request loop.'],
  500: ['server_error', 'AADSTS90033: A transient error has occurred. Please try again.'],
  503: ['temporarily_unavailable', 'AADSTS90033: A transient error has occurred. Please try again.'],
};
function aadError(status) {
  const [error, description] = AAD_ERRORS[status] ?? ['server_error', `AADSTS50000: stand-in answers ${status}.`];
  return { error, error_description: `${description}\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 11111111-0000-0000-0000-000000000000\r\nTimestamp: 2025-01-01 00:00:00Z`, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)] };
}

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function hostPort(s) {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

/** a >= b for dotted versions ('1.8.15'). */
function versionAtLeast(a, b) {
  const x = String(a).replace(/^v/, '').split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== y[i]) return (x[i] ?? 0) > y[i];
  return true;
}

const start = Date.now();
let state = structuredClone(DEFAULT_STATE);
let log = [];
/** Requests left unanswered, with the state key that holds them ('nmi', 'token', 'aad'). */
const hanging = new Map();

function b64url(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

/** An access token as IMDS issues one for a managed identity (unsigned: the checks decode, never verify). */
function accessToken(identity, resource) {
  const now = Math.floor(Date.now() / 1000);
  const who = state.tokenVersion === '2.0' ? { azp: identity.clientId, ver: '2.0' } : { appid: identity.clientId, ver: '1.0' };
  const payload = { aud: resource, iss: `https://sts.windows.net/${TENANT}/`, iat: now, nbf: now, exp: now + 86399, ...who, appidacr: '2', idtyp: 'app', oid: identity.objectId, sub: identity.objectId, tid: TENANT, xms_mirid: identity.resourceId, ...(state.identity ?? {}) };
  return `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(payload)}.c2lnbmF0dXJl`;
}

function hang(res, key) {
  hanging.set(res, key);
  res.on('close', () => hanging.delete(res));
}

const nmiGone = () => state.nmi === 'down' || state.nmi === 'killed';
/** NMI retrying (identity lookup, adal): held for ms, then answered, unless the client or NMI goes first. */
function holdThen(res, ms, answer) {
  hanging.set(res, 'token-retry');
  res.on('close', () => hanging.delete(res));
  setTimeout(() => { if (!res.writableEnded && !res.destroyed) { hanging.delete(res); answer(); } }, ms);
}

function nmiHealthListening() {
  return !nmiGone() && versionAtLeast(state.nmiVersion, '1.5.0');
}
/** 169.254.169.254:80 refuses connections while NMI's rule sends them to an NMI that is not there. */
function imdsListening() {
  return !(intercepting() && nmiGone());
}

function handleNmi(req, res) {
  log.push({ t: Date.now() - start, at: Date.now(), kind: 'nmi', path: req.url, metadata: req.headers.metadata, query: '' });
  if (new URL(req.url, 'http://x').pathname !== '/healthz') { res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }); return res.end('404 page not found\n'); }
  if (state.nmi === 'hang') return hang(res, 'nmi');
  const body = state.nmi === 'not-active' ? 'Not Active' : 'Active';
  const send = () => { res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }); res.end(body); };
  if (state.nmi === 'slow') setTimeout(send, state.nmiDelayMs); else send();
}

function intercepting() {
  if (state.intercept === true || state.intercept === false) return state.intercept;
  return ['active', 'slow', 'hang', 'killed'].includes(state.nmi);
}

const same = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

/** IMDS: the identity the selector names, or the only one; else an error (400). */
function imdsSelect(q, identities) {
  const clientId = q.get('client_id'); const objectId = q.get('object_id');
  const resId = q.get('msi_res_id') || q.get('mi_res_id');
  if (clientId || objectId || resId) {
    const id = identities.find((i) => (clientId && same(i.clientId, clientId)) || (objectId && same(i.objectId, objectId)) || (resId && same(i.resourceId, resId)));
    return id ? { id } : { status: 400, body: { error: 'invalid_request', error_description: 'Identity not found' } };
  }
  if (identities.length === 1) return { id: identities[0] };
  if (identities.length === 0) return { status: 400, body: { error: 'invalid_request', error_description: 'Identity not found' } };
  return { status: 400, body: { error: 'invalid_request', error_description: 'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request' } };
}

function handleToken(req, res) {
  const url = new URL(req.url, 'http://x');
  const by = intercepting() ? 'nmi' : 'imds';
  const entry = { t: Date.now() - start, at: Date.now(), kind: 'token', path: url.pathname, metadata: req.headers.metadata, query: url.search, by };
  log.push(entry);
  // An NMI that crashed with its rule in place (imdsListening closes the port; a request already
  // accepted when the state changed is reset).
  if (by === 'nmi' && nmiGone()) { entry.status = 0; return req.socket.destroy(); }
  const send = (status, body, type = 'application/json; charset=utf-8') => {
    entry.status = status;
    res.writeHead(status, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const text = (status, message) => send(status, `${message}\n`, 'text/plain; charset=utf-8'); // Go's http.Error
  // server.go tokenPathPrefix: "/{type:(?i:metadata)}/identity/oauth2/token"
  if (!/^\/metadata\/identity\/oauth2\/token\/?$/i.test(url.pathname)) return send(404, { error: 'not_found' });
  if (req.headers.metadata !== 'true') return send(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
  if (state.token === 'hang') return hang(res, 'token');
  if (state.token === 'bad-body') return send(200, { error: 'not a token' }); // a proxy's page, say
  if (typeof state.token === 'number') return send(state.token, { error: 'mock_error', error_description: `mock answers ${state.token}` });
  const answer = () => {
    const q = url.searchParams;
    const resource = q.get('resource');
    const issue = (id) => {
      const now = Math.floor(Date.now() / 1000);
      const t = { access_token: accessToken(id, resource), expires_in: '86399', expires_on: String(now + 86399), ext_expires_in: '86399', not_before: String(now), resource, token_type: 'Bearer' };
      // IMDS echoes the identity's client id; NMI's msiResponse has no client_id (server.go).
      send(200, by === 'imds' ? { ...t, client_id: id.clientId } : { ...t, refresh_token: '' });
    };
    if (by === 'imds') {
      if (typeof state.imds === 'number') return send(state.imds, { error: 'server_error', error_description: `IMDS answers ${state.imds}` });
      if (!resource) return send(400, { error: 'invalid_request', error_description: 'Required audience parameter not specified' });
      const r = imdsSelect(q, state.nodeIdentities);
      return r.id ? issue(r.id) : send(r.status, r.body);
    }
    if (!resource) return text(400, 'parameter resource cannot be empty');
    if (!state.podInCache) return void setTimeout(() => text(500, 'pod list is empty'), 1200); // 4 retries x 300 ms
    const clientId = q.get('client_id');
    const resId = q.get('msi_res_id') || (versionAtLeast(state.nmiVersion, '1.8.15') ? q.get('mi_res_id') : null);
    const ids = state.podIdentities;
    const id = !clientId && !resId ? ids[0] : ids.find((i) => (clientId && same(i.clientId, clientId)) || (resId && same(i.resourceId, resId)));
    if (!id) {
      // standard.go listPodIDsWithRetry's error (utils.RedactClientID), which msiHandler sends with http.Error.
      const redacted = clientId ? clientId.replace(/^(\S{4})\S*(\S{4})$/, '$1##### REDACTED #####$2') : '';
      const interval = Math.max(1, Math.min(5, Math.round(state.nmiRetryMs / 1000)));
      const attempts = Math.max(1, Math.round(state.nmiRetryMs / 1000 / interval));
      const notFound = () => text(404, `${clientId ? `clientID in request: ${redacted}, ` : ''}getting assigned identities for pod ${state.pod} in CREATED state failed after ${attempts} attempts, retry duration [${interval}]s, error: <nil>. Check MIC pod logs for identity assignment errors`);
      // managed.go GetIdentities: no retry, its own message.
      if (state.nmiMode === 'managed') return text(404, `no azure identity found for request clientID ${redacted}`);
      return holdThen(res, state.nmiRetryMs, notFound);
    }
    // NMI answers 403 with adal's error text unwrapped (pkg/auth/auth.go returns it as it is; server.go http.Error).
    const adalFailed = (status, body) => text(403, `adal: Refresh request failed. Status Code = '${status}'. Response body: ${JSON.stringify(body)} Endpoint http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&client_id=${id.clientId}&resource=${encodeURIComponent(resource)}`);
    if (typeof state.imds === 'number') {
      const refreshFailed = () => adalFailed(state.imds, { error: 'server_error', error_description: `IMDS answers ${state.imds}` });
      const retried = state.imds === 404 || state.imds === 408 || state.imds === 410 || state.imds === 429 || state.imds >= 500;
      if (!retried) return refreshFailed();
      return holdThen(res, state.imdsRetryMs, refreshFailed);
    }
    if (!state.nodeIdentities.some((n) => same(n.clientId, id.clientId))) {
      return adalFailed(400, { error: 'invalid_request', error_description: 'Identity not found' });
    }
    issue(id);
  };
  if (state.token === 'slow') return void setTimeout(answer, state.tokenDelayMs);
  answer();
}

function handleAad(req, res) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { if (body.length < 65536) body += c; });
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    const entry = { t: Date.now() - start, at: Date.now(), kind: 'aad', path: url.pathname, metadata: undefined, query: '' };
    log.push(entry);
    const json = (status, obj) => { entry.status = status; res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }); res.end(JSON.stringify(obj)); };
    if (state.aad === 'hang') return hang(res, 'aad');
    if (typeof state.aad === 'number') return json(state.aad, aadError(state.aad));
    const form = Object.fromEntries(new URLSearchParams(body));
    const m = /^\/([0-9a-f-]{36})\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (req.method !== 'POST' || !m) return json(404, { error: 'invalid_request', error_description: 'AADSTS90002: Tenant not found.', error_codes: [90002] });
    const assertion = form.client_assertion ?? '';
    if (form.grant_type !== 'client_credentials' || form.client_assertion_type !== ASSERTION_TYPE || !form.scope || !form.client_id
      || assertion.split('.').length !== 3) {
      return json(400, { error: 'invalid_request', error_description: 'AADSTS900144: The request body must contain the following parameter.', error_codes: [900144] });
    }
    const now = Math.floor(Date.now() / 1000);
    const who = state.tokenVersion === '2.0' ? { azp: form.client_id, ver: '2.0' } : { appid: form.client_id, ver: '1.0' };
    json(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ aud: form.scope, ...who, tid: m[1], iat: now, exp: now + 3600 })}.c2lnbmF0dXJl` });
  });
}

function listen(server, addr) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => { server.off('error', reject); resolve(server.address().port); });
  });
}

const nmiAddr = hostPort(arg('nmi') ?? '127.0.0.1:0');
const imdsAddr = hostPort(arg('imds') ?? '127.0.0.1:0');
const aadAddr = arg('aad') ? hostPort(arg('aad')) : undefined;
const controlPath = arg('control');

let nmiServer = http.createServer(handleNmi);
let imdsServer = http.createServer(handleToken);
nmiAddr.port = await listen(nmiServer, nmiAddr);
imdsAddr.port = await listen(imdsServer, imdsAddr);
if (aadAddr) aadAddr.port = await listen(http.createServer(handleAad), aadAddr);
let nmiListening = true;
let imdsUp = true;

async function applyImdsListening() {
  const want = imdsListening();
  if (!want && imdsUp) {
    imdsUp = false;
    imdsServer.closeAllConnections();
    await new Promise((r) => imdsServer.close(r));
  } else if (want && !imdsUp) {
    imdsServer = http.createServer(handleToken);
    await listen(imdsServer, imdsAddr);
    imdsUp = true;
  }
}

async function applyNmiListening() {
  // Nothing listens on the health port while NMI is down, or before v1.5 (no health endpoint).
  const want = nmiHealthListening();
  if (!want && nmiListening) {
    nmiListening = false;
    for (const [r, key] of hanging) if (key === 'nmi') r.destroy();
    nmiServer.closeAllConnections();
    await new Promise((r) => nmiServer.close(r));
  } else if (want && !nmiListening) {
    nmiServer = http.createServer(handleNmi);
    await listen(nmiServer, nmiAddr);
    nmiListening = true;
  }
}

let sigtermTimer;
async function setState(patch) {
  state = { ...state, ...patch };
  for (const [r, key] of hanging) {
    const held = key === 'token-retry' ? !intercepting() || nmiGone() : state[key] !== 'hang';
    if (held) r.destroy();
  }
  await applyNmiListening();
  await applyImdsListening();
}

if (controlPath) {
  try { fs.unlinkSync(controlPath); } catch { /* not there */ }
  const control = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const send = (obj) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
    try {
      if (req.method === 'POST' && req.url === '/state') {
        clearTimeout(sigtermTimer);
        await setState(JSON.parse(body || '{}'));
        return send(state);
      }
      if (req.method === 'POST' && req.url === '/sigterm') {
        const { windowMs = 10_000 } = JSON.parse(body || '{}');
        clearTimeout(sigtermTimer);
        await setState({ nmi: 'terminating' });
        sigtermTimer = setTimeout(() => void setState({ nmi: 'down' }), windowMs);
        return send(state);
      }
      if (req.url === '/state') return send(state);
      if (req.url === '/requests') return send(log);
      if (req.method === 'POST' && req.url === '/reset') { log = []; return send({ ok: true }); }
      res.writeHead(404); res.end();
    } catch (e) {
      res.writeHead(400); res.end(String(e));
    }
  });
  await new Promise((r) => control.listen(controlPath, r));
}

process.stdout.write(`${JSON.stringify({ nmi: nmiAddr.port, imds: imdsAddr.port, aad: aadAddr?.port })}\n`);
// Stop with the parent: a test bed never outlives its test run.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
