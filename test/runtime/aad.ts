/**
 * Stand-ins for the workload identity tests, in the test process, on 127.0.0.1 (port 0): the AAD
 * token endpoint (reached through AZURE_AUTHORITY_HOST) and the migration proxy sidecar's
 * /readyz; plus federated token files in a temp dir. Nothing here leaves loopback.
 *
 * In state 'ok' the token endpoint behaves as AAD does for a client-credentials request with a
 * client assertion: it checks the form, the client id and the assertion's `sub` and `exp`, and
 * answers 400 with AAD's error codes when they do not match (AADSTS700016, AADSTS700213,
 * AADSTS700024). Error bodies carry `error`, `error_description` (the AADSTS text, then trace
 * and correlation ids and a timestamp, CRLF-separated), `error_codes`, as AAD's v2.0 token
 * endpoint writes them (Microsoft identity platform: "Error response" of the client credentials
 * flow). Access tokens carry `appid` (v1.0, the default) or `azp` (tokenVersion '2.0'): the
 * access token claims reference. It also answers the OpenID Connect metadata document
 * (GET /<tenant>/v2.0/.well-known/openid-configuration) that MSAL fetches before its first
 * token request, so a real client (@azure/identity's WorkloadIdentityCredential, MSAL Node) can
 * use it: test/bed/real-clients.test.ts proves it.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net, { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const TENANT_ID = '33333333-3333-3333-3333-333333333333';
export const CLIENT_ID = '44444444-4444-4444-4444-444444444444';
export const SUBJECT = 'system:serviceaccount:shop:orders';
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AadState {
  /** 'ok': validate and issue; a number: answer that status with `error`/`description`; 'hang': never answer; 'bad-body': 200 without a token. */
  token?: 'ok' | 'hang' | 'bad-body' | number;
  error?: string;
  description?: string;
  /** The client id and subject the federated identity credential names (state 'ok'). */
  clientId?: string;
  subject?: string;
  proxy?: 'ready' | 'not-ready' | 'hang';
  /** Access token claims: v1.0 `appid`, v2.0 `azp`. @default '1.0' */
  tokenVersion?: '1.0' | '2.0';
}

export interface AadRequest {
  at: number;
  method: string;
  /** The path without the query (MSAL adds client-request-id and SKU parameters). */
  path: string;
  contentType?: string;
  /** The form as sent (client_assertion included: the tests compare it with the file). */
  form: Record<string, string>;
}

export interface Aad {
  /** What AZURE_AUTHORITY_HOST is set to (with a trailing slash, as the webhook sets it). */
  readonly authorityHost: string;
  readonly proxyPort: number;
  set(s: AadState): void;
  requests(): AadRequest[];
  reset(): void;
  stop(): Promise<void>;
}

const DEFAULT_STATE: AadState = { token: 'ok', clientId: CLIENT_ID, subject: SUBJECT, proxy: 'ready', tokenVersion: '1.0' };

/** AAD-shaped error body (first sentence, then trace ids, as AAD writes them). */
function aadError(error: string, description: string): string {
  return JSON.stringify({ error, error_description: `${description}\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 11111111-0000-0000-0000-000000000000\r\nTimestamp: 2025-01-01 00:00:00Z`, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)] });
}

function claims(jwt: string): Record<string, unknown> | undefined {
  try { return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')); } catch { return undefined; }
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** With `tls`, the token endpoint is https (as the real AZURE_AUTHORITY_HOST is). */
export async function startAad(o: { tls?: { key: string; cert: string } } = {}): Promise<Aad> {
  let state: AadState = { ...DEFAULT_STATE };
  let log: AadRequest[] = [];

  let base = '';
  const handler: http.RequestListener = (req, res) => {
    // OpenID Connect metadata, as AAD publishes it per tenant (the fields MSAL requires).
    if (req.method === 'GET' && req.url === `/${TENANT_ID}/v2.0/.well-known/openid-configuration`) {
      log.push({ at: Date.now(), method: 'GET', path: req.url, form: {} });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      return void res.end(JSON.stringify({
        issuer: `${base}${TENANT_ID}/v2.0`, token_endpoint: `${base}${TENANT_ID}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}${TENANT_ID}/oauth2/v2.0/authorize`, jwks_uri: `${base}${TENANT_ID}/discovery/v2.0/keys`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'], tenant_region_scope: null,
      }));
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { if (body.length < 65536) body += c; });
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      log.push({ at: Date.now(), method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname, contentType: req.headers['content-type'], form });
      const answer = (status: number, payload: string) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(payload); };
      const s = state.token ?? 'ok';
      if (s === 'hang') return; // never answers; the client's timeout must end it
      if (s === 'bad-body') return answer(200, '{"token_type":"Bearer","expires_in":3599}');
      if (typeof s === 'number') return answer(s, aadError(state.error ?? 'server_error', state.description ?? `AADSTS50000: stand-in answers ${s}.`));
      // MSAL adds query parameters (client-request-id, x-client-SKU ...): AAD routes on the path.
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== `/${TENANT_ID}/oauth2/v2.0/token`) return answer(404, aadError('invalid_request', 'AADSTS90002: Tenant not found.'));
      if (form.grant_type !== 'client_credentials' || form.client_assertion_type !== ASSERTION_TYPE || !form.scope) {
        return answer(400, aadError('invalid_request', 'AADSTS900144: The request body must contain the following parameter.'));
      }
      if (form.client_id !== state.clientId) {
        return answer(400, aadError('unauthorized_client', `AADSTS700016: Application with identifier '${form.client_id}' was not found in the directory '${TENANT_ID}'.`));
      }
      const c = claims(form.client_assertion ?? '');
      if (!c) return answer(400, aadError('invalid_client', 'AADSTS50027: JWT token is invalid or malformed.'));
      if (typeof c.exp !== 'number' || c.exp * 1000 <= Date.now()) {
        return answer(400, aadError('invalid_client', 'AADSTS700024: Client assertion is not within its valid time range.'));
      }
      if (c.sub !== state.subject) {
        return answer(400, aadError('invalid_request', `AADSTS700213: No matching federated identity record found for presented assertion subject '${String(c.sub)}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.`));
      }
      // An access token shaped like one, so a leak would show as 'eyJ' in logs and bodies.
      const who = state.tokenVersion === '2.0' ? { azp: form.client_id, ver: '2.0' } : { appid: form.client_id, ver: '1.0' };
      answer(200, JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: jwt({ aud: form.scope.replace(/\/\.default$/, ''), ...who, tid: TENANT_ID, exp: Math.floor(Date.now() / 1000) + 3600 }) }));
    });
  };
  const token: http.Server = o.tls ? https.createServer(o.tls, handler) : http.createServer(handler);

  const proxy = http.createServer((req, res) => {
    const p = state.proxy ?? 'ready';
    if (p === 'hang') return;
    res.writeHead(req.url === '/readyz' && p === 'ready' ? 200 : 503);
    res.end(p === 'ready' ? 'ok' : 'not ready');
  });

  const [tokenPort, proxyPort] = [await listen(token), await listen(proxy)];
  base = `${o.tls ? 'https' : 'http'}://127.0.0.1:${tokenPort}/`;
  return {
    authorityHost: base,
    proxyPort,
    set(s) { state = { ...state, ...s }; },
    requests: () => log.slice(),
    reset() { state = { ...DEFAULT_STATE }; log = []; },
    async stop() {
      for (const server of [token, proxy]) {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    },
  };
}

/** An unsigned JWT with these claims (the checks decode, never verify). */
export function jwt(payload: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'stand-in' })}.${part(payload)}.c2lnbmF0dXJl`;
}

/** A projected service account token as kubelet writes it, valid for `seconds` (negative: expired). */
export function federatedToken(seconds = 3600, extra: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return jwt({ aud: ['api://AzureADTokenExchange'], iss: 'https://oidc.example/issuer', sub: SUBJECT, iat: now, nbf: now, exp: now + seconds, ...extra });
}

/** A temp dir for token files; `write` replaces a file atomically (rename), as kubelet's projected volume does. */
export function tokenDir(): { dir: string; file: string; write(content: string, name?: string): string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-wi-'));
  const write = (content: string, name = 'azure-identity-token') => {
    const target = path.join(dir, name);
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, target);
    return target;
  };
  return { dir, file: path.join(dir, 'azure-identity-token'), write, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The webhook's env for a pod, pointed at the stand-in. */
export function webhookEnv(aad: Aad, file: string): Record<string, string> {
  return { AZURE_CLIENT_ID: CLIENT_ID, AZURE_TENANT_ID: TENANT_ID, AZURE_FEDERATED_TOKEN_FILE: file, AZURE_AUTHORITY_HOST: aad.authorityHost };
}

/** A self-signed certificate for 127.0.0.1 (openssl), in `dir`. A missing openssl fails the test (scripts/test.sh installs it). */
export function selfSignedCert(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'aad.key');
  const certFile = path.join(dir, 'aad.crt');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 20_000 });
  } catch (e: any) {
    throw new Error(`openssl could not make a test certificate (${e.code ?? e.message}): run "npm test" (scripts/test.sh installs openssl) or apt-get install openssl`);
  }
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

export interface ConnectProxy {
  /** What HTTPS_PROXY is set to. */
  readonly url: string;
  /** CONNECT targets seen (host:port), and the Proxy-Authorization header of each. */
  connects(): Array<{ target: string; auth?: string }>;
  stop(): Promise<void>;
}

/**
 * An HTTP CONNECT proxy on 127.0.0.1 that tunnels to loopback targets only. `answer` other than
 * 200 refuses every tunnel with that status; `auth` ('user:password') demands credentials (407).
 */
export async function startConnectProxy(o: { answer?: number; auth?: string } = {}): Promise<ConnectProxy> {
  const seen: Array<{ target: string; auth?: string }> = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => { res.writeHead(405); res.end(); });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const auth = req.headers['proxy-authorization'];
    seen.push({ target: req.url ?? '', auth });
    const [host, port] = (req.url ?? '').split(':');
    const refuse = (status: number, text: string) => client.end(`HTTP/1.1 ${status} ${text}\r\n\r\n`);
    if (o.answer && o.answer !== 200) return refuse(o.answer, 'Refused');
    if (o.auth && auth !== `Basic ${Buffer.from(o.auth).toString('base64')}`) return refuse(407, 'Proxy Authentication Required');
    if (host !== '127.0.0.1') return refuse(403, 'Forbidden'); // loopback only
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    // Either side gone: close the other (a paused half-open socket would never see its EOF).
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    for (const s of [client, upstream]) s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    connects: () => seen.slice(),
    async stop() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
