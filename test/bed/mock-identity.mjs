#!/usr/bin/env node
/**
 * Stand-in for AAD Pod Identity's NMI health endpoint, the IMDS/NMI token endpoint and (for
 * Azure AD Workload Identity) AAD's token endpoint, whose state a test changes at run time.
 * Plain JS so it can run as its own process inside a network
 * namespace (`ip netns exec <ns> node mock-identity.mjs ...`).
 *
 *   node mock-identity.mjs --nmi HOST:PORT --imds HOST:PORT [--aad HOST:PORT] --control /path/control.sock
 *
 * Prints one JSON line {"nmi":port,"imds":port,"aad":port} on stdout once listening (port 0 = any).
 * Control API (HTTP over the unix socket, reachable from outside the namespace):
 *   POST /state     JSON merged into the state (see DEFAULT_STATE), answers the new state
 *   GET  /state
 *   GET  /requests  [{t, at, kind:'nmi'|'token'|'aad', path, metadata, query}]  (t: ms since start; at: epoch ms)
 *   POST /reset     clears the request log
 *
 * State:
 *   nmi:   'active' | 'not-active' | 'down' (refused) | 'hang' (never answers) | 'slow' (Active after nmiDelayMs)
 *   token: 'ok' | 'hang' | 'slow' (ok after tokenDelayMs) | 'bad-body' (200 without access_token)
 *          | an HTTP status number (400, 403, 404, 410, 429, 500, ...)
 *   identity: claims of the issued token, {appid, oid}; tests switch it to the node's identity.
 *   aad:   'ok' | 'hang' | 400 (AADSTS70021, no matching federated identity credential) | 401
 *          (AADSTS700027, assertion rejected) | 429 | 500 | 503, with AAD's error bodies.
 * A token request without the header `Metadata: true` always gets 400, as IMDS does.
 * AAD (state 'ok') checks the request as AAD does for a client-credentials grant with a client
 * assertion: POST /<tenant>/oauth2/v2.0/token, form client_id, client_assertion (a JWT),
 * client_assertion_type jwt-bearer, grant_type client_credentials, scope; else 400 AADSTS900144.
 * It does not check the assertion's exp: the bed's clock is virtual, the mock's is not (the
 * checks' own exp test is what the bed observes).
 */
import http from 'node:http';
import fs from 'node:fs';

const DEFAULT_STATE = {
  nmi: 'active',
  nmiDelayMs: 0,
  token: 'ok',
  tokenDelayMs: 0,
  identity: { appid: '11111111-1111-1111-1111-111111111111', oid: '22222222-2222-2222-2222-222222222222' },
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

const start = Date.now();
let state = structuredClone(DEFAULT_STATE);
let log = [];
/** Requests left unanswered, with the state key that holds them ('nmi', 'token', 'aad'). */
const hanging = new Map();

function b64url(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

function token(identity) {
  const now = Math.floor(Date.now() / 1000);
  const payload = { aud: 'https://management.azure.com/', iat: now, exp: now + 3600, ...identity };
  return `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(payload)}.c2lnbmF0dXJl`;
}

function hang(res, key) {
  hanging.set(res, key);
  res.on('close', () => hanging.delete(res));
}

function handleNmi(req, res) {
  log.push({ t: Date.now() - start, at: Date.now(), kind: 'nmi', path: req.url, metadata: req.headers.metadata, query: '' });
  if (state.nmi === 'hang') return hang(res, 'nmi');
  const body = state.nmi === 'not-active' ? 'Not Active' : 'Active';
  const send = () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(body); };
  if (state.nmi === 'slow') setTimeout(send, state.nmiDelayMs); else send();
}

function handleToken(req, res) {
  const url = new URL(req.url, 'http://x');
  log.push({ t: Date.now() - start, at: Date.now(), kind: 'token', path: url.pathname, metadata: req.headers.metadata, query: url.search });
  const json = (status, obj) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
  if (url.pathname !== '/metadata/identity/oauth2/token') return json(404, { error: 'not_found' });
  if (req.headers.metadata !== 'true') return json(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
  if (state.token === 'hang') return hang(res, 'token');
  const ok = () => json(200, {
    access_token: token(state.identity), expires_in: '3600', expires_on: String(Math.floor(Date.now() / 1000) + 3600),
    resource: url.searchParams.get('resource'), token_type: 'Bearer',
  });
  if (state.token === 'ok') return ok();
  if (state.token === 'slow') return void setTimeout(ok, state.tokenDelayMs);
  // A 200 that is not a token (a proxy's error page, say): checks must look for access_token.
  if (state.token === 'bad-body') return json(200, { error: 'not a token' });
  const status = Number(state.token);
  json(status, { error: 'mock_error', error_description: `mock answers ${status}` });
}

function handleAad(req, res) {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { if (body.length < 65536) body += c; });
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    log.push({ t: Date.now() - start, at: Date.now(), kind: 'aad', path: url.pathname, metadata: undefined, query: '' });
    const json = (status, obj) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
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
    json(200, { token_type: 'Bearer', expires_in: 3599, access_token: `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ aud: form.scope, appid: form.client_id, tid: m[1], iat: now, exp: now + 3600 })}.c2lnbmF0dXJl` });
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
const imdsServer = http.createServer(handleToken);
nmiAddr.port = await listen(nmiServer, nmiAddr);
imdsAddr.port = await listen(imdsServer, imdsAddr);
if (aadAddr) aadAddr.port = await listen(http.createServer(handleAad), aadAddr);
let nmiListening = true;

async function applyNmiListening() {
  // 'down': nothing listens (connection refused); any other state: listening again.
  if (state.nmi === 'down' && nmiListening) {
    nmiListening = false;
    for (const [r, key] of hanging) if (key === 'nmi') r.destroy();
    nmiServer.closeAllConnections();
    await new Promise((r) => nmiServer.close(r));
  } else if (state.nmi !== 'down' && !nmiListening) {
    nmiServer = http.createServer(handleNmi);
    await listen(nmiServer, nmiAddr);
    nmiListening = true;
  }
}

if (controlPath) {
  try { fs.unlinkSync(controlPath); } catch { /* not there */ }
  const control = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const send = (obj) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
    try {
      if (req.method === 'POST' && req.url === '/state') {
        state = { ...state, ...JSON.parse(body || '{}') };
        for (const [r, key] of hanging) if (state[key] !== 'hang') r.destroy();
        await applyNmiListening();
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
