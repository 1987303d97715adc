#!/usr/bin/env node
/**
 * IMDS's managed identity token endpoint, the only stand-in of the real-NMI suite (Azure's IMDS
 * cannot run here). Listens on 169.254.169.254:80 inside the node namespace; answers as IMDS does
 * (docs: "Azure Instance Metadata Service, managed identities for Azure resources"): a token for
 * the requested client_id (an identity assigned to the VM), or for the node's own identity when
 * none is named; 400 "Identity not found" for an identity not assigned; 400 without Metadata: true.
 *
 *   node imds-stand-in.mjs STATE_FILE LOG_FILE
 * STATE_FILE (read on each request): {"mode": "ok" | "identity-not-found" | 500, "assigned": [client ids]}
 * LOG_FILE: one JSON line per request {at, remote, clientId, resource}.
 * Prints "listening" once ready.
 */
import fs from 'node:fs';
import http from 'node:http';

const [stateFile, logFile] = process.argv.slice(2);
const NODE_IDENTITY = '99999999-9999-9999-9999-999999999999';
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://169.254.169.254');
  const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const clientId = url.searchParams.get('client_id') ?? '';
  const resource = url.searchParams.get('resource') ?? '';
  fs.appendFileSync(logFile, `${JSON.stringify({ at: Date.now(), remote: req.socket.remoteAddress, clientId, resource, path: url.pathname })}\n`);
  const json = (status, body) => { res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }); res.end(JSON.stringify(body)); };
  if (url.pathname !== '/metadata/identity/oauth2/token') return json(404, { error: 'not_found' });
  if (req.headers.metadata !== 'true') return json(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
  if (!resource) return json(400, { error: 'invalid_request', error_description: "Required query variable 'resource' is missing" });
  if (typeof state.mode === 'number') return json(state.mode, { error: 'unknown_error', error_description: `IMDS stand-in answers ${state.mode}` });
  if (state.mode === 'identity-not-found' || (clientId && !(state.assigned ?? []).includes(clientId))) {
    return json(400, { error: 'invalid_request', error_description: 'Identity not found' });
  }
  const now = Math.floor(Date.now() / 1000);
  const appid = clientId || NODE_IDENTITY;
  json(200, {
    access_token: `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ aud: resource, appid, oid: `${appid.slice(0, -4)}0000`, iat: now, nbf: now, exp: now + 86399 })}.c2ln`,
    client_id: appid, expires_in: '86399', expires_on: String(now + 86399), ext_expires_in: '86399', not_before: String(now), resource, token_type: 'Bearer',
  });
}).listen(80, '169.254.169.254', () => console.log('listening'));
