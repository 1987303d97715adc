/**
 * The identity checks, uncached, with the same meaning as the shell checks of strategies 2, 5
 * and 7/8 (src/checks/scripts.ts): NMI is healthy only on 200 with body `Active`; a token request
 * is healthy only on 200 with a non-empty access_token (and, optionally, the expected identity's
 * claims); workload identity below. Node standard library only. The token never leaves this file.
 * Upstream sources cited where a behaviour is encoded: Azure/aad-pod-identity at its archived
 * head (pkg/nmi/server/server.go), Azure/azure-workload-identity v1.6 (pkg/webhook, pkg/proxy),
 * the IMDS and managed identity docs, the Microsoft identity platform token docs.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

export const DEFAULT_NMI_PORT = 8085;
export const DEFAULT_RESOURCE = 'https://management.azure.com/';
export const DEFAULT_API_VERSION = '2018-02-01';
export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';
export const TOKEN_PATH = '/metadata/identity/oauth2/token';

/** The outcome of one check. `reason` is meant for a human on call: it says what to look at. */
export interface CheckResult {
  /** 'nmi', 'identity' or the name of an app check. */
  readonly name: string;
  readonly ok: boolean;
  readonly reason: string;
  /** The fault usually clears by itself (429, 410, 5xx, timeout): liveness tolerates it for a grace period. */
  readonly transient: boolean;
  /** HTTP status, when there was an answer. */
  readonly status?: number;
  /**
   * false: restarting the container cannot clear this fault (only fixing the binding, the
   * ServiceAccount or recreating the pod can), so liveness holds and only readiness fails: no
   * restart loop. @default true
   */
  readonly restart?: boolean;
}

export interface NmiCheckOptions {
  /** Node IP where NMI listens (hostNetwork). @default process.env.HOST_IP */
  readonly hostIp?: string;
  /** NMI health port. @default 8085 */
  readonly port?: number;
  /** Upper bound for the request, ms. @default 1000 */
  readonly timeoutMs?: number;
}

export interface IdentityCheckOptions {
  /** Audience of the token. @default 'https://management.azure.com/' */
  readonly resource?: string;
  /** @default '2018-02-01' */
  readonly apiVersion?: string;
  /** Client id of the user-assigned identity: selects it (`client_id`) and is checked against the token's `appid`/`azp`. */
  readonly clientId?: string;
  /**
   * Object id of the identity: a claim to verify (`oid`), never a selector. NMI reads only
   * `client_id`, `msi_res_id`/`mi_res_id` and `resource` (aad-pod-identity pkg/nmi/server/server.go
   * `parseTokenRequest`), so an `object_id` would be ignored and another identity bound to the
   * pod could answer: it needs clientId or miResId beside it.
   */
  readonly objectId?: string;
  /** ARM resource id of the identity: selects it (`msi_res_id`). */
  readonly miResId?: string;
  /** Upper bound for the request, ms. @default 4000 */
  readonly timeoutMs?: number;
  /**
   * Compare the token's `appid` (v1.0 tokens) or `azp` (v2.0 tokens) with clientId and `oid`
   * with objectId, so a token issued to another identity than the one meant fails. The JWT payload is decoded, NOT
   * verified: this tells which identity answered, it is no authentication.
   * @default true when clientId or objectId is set
   */
  readonly verifyIdentity?: boolean;
  /** Where the token endpoint is; only tests and local runs change it. @default 'http://169.254.169.254' */
  readonly imdsEndpoint?: string;
}

interface Answer { status: number; body: string }

export class TimeoutError extends Error {}

/**
 * `work`'s outcome, or a TimeoutError(message) after `ms` (calling `onTimeout` first, e.g. to
 * abort it). The timer never outlives the race; a late rejection of `work` is dropped: nothing
 * is left to report it to. For work that cannot be cancelled (a file read, an app check, an SDK).
 */
export async function bounded<T>(work: Promise<T>, ms: number, message: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { onTimeout?.(); reject(new TimeoutError(message)); }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const MAX_BODY = 64 * 1024;

/** A proxy that would not open the tunnel (CONNECT answered other than 200). */
class ProxyError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

/**
 * One HTTP exchange with a hard bound on the whole of it (proxy tunnel + connect + answer + body).
 * A fresh connection each time (no pooled keep-alive socket that could hide that NMI is gone).
 * https only for the AAD token endpoint (AZURE_AUTHORITY_HOST), through `proxy` (CONNECT) when
 * given. NMI, IMDS and the workload identity proxy sidecar are plain http and never proxied,
 * whatever http_proxy/HTTPS_PROXY/ALL_PROXY say (AKS's HTTP proxy feature injects them into pods;
 * the IMDS docs, "Proxies": IMDS is not meant to be used behind a proxy): `agent: false` gives
 * each request its own agent with no proxy (Node 20 ignores proxy env; the env proxy support of
 * newer releases, NODE_USE_ENV_PROXY, configures the global agent, not these).
 */
function request(url: string, o: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; proxy?: URL }, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const open: Array<{ destroy(): unknown }> = [];
    // Whatever the outcome, no socket outlives the exchange (the tunnel's included).
    const settle = (f: () => void) => { if (!settled) { settled = true; clearTimeout(timer); f(); for (const x of open) x.destroy(); } };
    const fail = (e: unknown) => settle(() => reject(e));
    const headers = { ...o.headers, ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) };
    // A malformed URL throws here, before the timer exists: the promise rejects, nothing is left behind.
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : http;
    const send = (createConnection?: () => Duplex) => {
      const req = lib.request(url, { method: o.method ?? 'GET', headers, ...(createConnection ? { createConnection } : { agent: false }) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { if (body.length < MAX_BODY) body += c; });
        res.on('end', () => settle(() => resolve({ status: res.statusCode ?? 0, body })));
        res.on('error', fail);
      });
      open.push(req);
      req.on('error', fail);
      req.end(o.body);
    };
    // Bounds the tunnel, connect, headers and body alike; it wins over the error the destroyed socket reports.
    timer = setTimeout(() => fail(new TimeoutError(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    try {
      if (o.proxy && target.protocol === 'https:') {
        const host = target.hostname.replace(/^\[|\]$/g, '');
        const authority = `${target.hostname}:${target.port || 443}`;
        const auth = o.proxy.username ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(o.proxy.username)}:${decodeURIComponent(o.proxy.password)}`).toString('base64')}` } : {};
        const tunnel = http.request({ host: o.proxy.hostname.replace(/^\[|\]$/g, ''), port: o.proxy.port || 80, method: 'CONNECT', path: authority, headers: { host: authority, ...auth }, agent: false });
        open.push(tunnel);
        tunnel.on('error', fail);
        tunnel.on('connect', (res, socket) => {
          open.push(socket);
          if (res.statusCode !== 200) {
            socket.destroy();
            fail(new ProxyError(`proxy ${o.proxy!.protocol}//${o.proxy!.host} answered CONNECT with ${res.statusCode}`, res.statusCode ?? 0));
            return;
          }
          // host: the name the certificate must carry (else tls checks 'localhost'); SNI only for names.
          send(() => tls.connect({ socket, host, ...(net.isIP(host) ? {} : { servername: host }) }));
        });
        tunnel.end();
      } else {
        send();
      }
    } catch (e) {
      fail(e);
    }
  });
}

/**
 * The proxy for an https URL, as curl and the Azure SDKs take it: HTTPS_PROXY / https_proxy
 * unless NO_PROXY / no_proxy names the host ('*', a host, or a domain that covers it; ports and
 * CIDR ranges are not matched). Throws when the variable is not an http:// URL.
 */
export function proxyFor(url: string, env: Record<string, string | undefined> = process.env): URL | undefined {
  const target = new URL(url);
  if (target.protocol !== 'https:') return undefined;
  const raw = env.HTTPS_PROXY || env.https_proxy;
  if (!raw) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const noProxy = (env.NO_PROXY || env.no_proxy || '').split(/[\s,]+/).map((x) => x.trim().toLowerCase()).filter(Boolean);
  for (const entry of noProxy) {
    if (entry === '*') return undefined;
    let name = entry.replace(/^\*?\./, '');
    if (name.startsWith('[')) name = name.slice(1, name.indexOf(']') === -1 ? undefined : name.indexOf(']'));
    else if (name.split(':').length === 2) name = name.split(':')[0];
    if (host === name || host.endsWith(`.${name}`)) return undefined;
  }
  let proxy: URL;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new Error('HTTPS_PROXY is set but is not a URL');
  }
  if (proxy.protocol !== 'http:') throw new Error(`HTTPS_PROXY ${proxy.protocol}//${proxy.host}: only an http:// proxy (CONNECT) is supported`);
  return proxy;
}

function get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  return request(url, { headers }, timeoutMs);
}

function describeError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const msg = e instanceof Error ? e.message : String(e);
  return code && !msg.includes(code) ? `${code} ${msg}` : msg;
}

function hostForUrl(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** NMI health: 200 with body `Active`. NMI answers 200 `Not Active` before its iptables rules are in place. */
export async function checkNmi(options: NmiCheckOptions = {}): Promise<CheckResult> {
  const hostIp = options.hostIp ?? process.env.HOST_IP;
  const fail = (reason: string, status?: number): CheckResult => ({ name: 'nmi', ok: false, reason, transient: false, status });
  if (!hostIp) return fail('HOST_IP is not set: add env HOST_IP from fieldRef status.hostIP (downward API) to this container');
  const url = `http://${hostForUrl(hostIp)}:${options.port ?? DEFAULT_NMI_PORT}/healthz`;
  let a: Answer;
  try {
    a = await get(url, {}, options.timeoutMs ?? 1000);
  } catch (e) {
    // NMI on this node is gone, evicted or hung: token requests would bypass or stall on it.
    if (e instanceof TimeoutError) return fail(`NMI at ${url} did not answer: ${e.message} (NMI hung or overloaded?)`);
    return fail(`NMI at ${url} unreachable: ${describeError(e)} (is the NMI pod on this node running?)`);
  }
  const body = a.body.trim();
  if (a.status === 200 && body === 'Active') return { name: 'nmi', ok: true, reason: `NMI at ${url} is Active`, transient: false, status: 200 };
  if (a.status === 200) return fail(`NMI at ${url} is not active (body: ${JSON.stringify(body.slice(0, 80))}): its iptables rules are not in place yet`, 200);
  return fail(`NMI at ${url} answered ${a.status}`, a.status);
}

/**
 * Why these options cannot select the identity behind NMI, or undefined. objectId is only a
 * claim to verify: NMI reads `client_id`, `msi_res_id` (else `mi_res_id`) and `resource`, never
 * `object_id` (aad-pod-identity pkg/nmi/server/server.go `parseTokenRequest`), so with objectId
 * alone NMI would answer with whichever identity bound to the pod it finds first.
 */
export function identitySelectorError(o: Pick<IdentityCheckOptions, 'clientId' | 'objectId' | 'miResId'>): string | undefined {
  if (o.objectId && !o.clientId && !o.miResId) {
    return `objectId ${o.objectId} cannot select the identity: AAD Pod Identity's NMI ignores object_id (it reads only client_id and msi_res_id/mi_res_id), so another identity bound to the pod may answer. `
      + 'Select it with clientId (IDENTITY_HEALTH_CLIENT_ID) or miResId (IDENTITY_HEALTH_MI_RES_ID); objectId may stay beside it as a claim to verify (oid)';
  }
  return undefined;
}

/**
 * The token URL. The ARM resource id goes in `msi_res_id`: the name IMDS documents ("Acquire an
 * access token", managed identities docs: `object_id`, `client_id`, `msi_res_id`) and the one
 * every NMI reads (pkg/nmi/server/server.go `parseTokenRequest`; `mi_res_id` only as a fallback,
 * from v1.8.15); MSAL's IMDS source sends `msi_res_id` too. objectId is never sent (see
 * identitySelectorError).
 */
export function tokenUrl(o: IdentityCheckOptions = {}): string {
  const q = new URLSearchParams({ 'api-version': o.apiVersion ?? DEFAULT_API_VERSION, 'resource': o.resource ?? DEFAULT_RESOURCE });
  if (o.clientId) q.set('client_id', o.clientId);
  if (o.miResId) q.set('msi_res_id', o.miResId);
  return `${(o.imdsEndpoint ?? DEFAULT_IMDS_ENDPOINT).replace(/\/+$/, '')}${TOKEN_PATH}?${q}`;
}

interface StatusMeaning { reason: string; transient: boolean; restart?: boolean }

/**
 * What a token answer means behind NMI, per status, as aad-pod-identity's NMI sets them
 * (pkg/nmi/server/server.go `msiHandler`), then IMDS's own (instance-metadata-service docs,
 * "Errors and debugging"). `restart: false` where restarting the container cannot help.
 */
export function statusReason(status: number): StatusMeaning {
  switch (status) {
    case 400: return { reason: 'bad request: the resource or the Metadata header is missing, or several identities are assigned and none is selected (set clientId or miResId)', transient: false, restart: false };
    // GetIdentities failed: no AzureAssignedIdentity for this pod that matches the selector.
    case 404: return { reason: 'no identity assigned to this pod matches the request: check the pod\'s aadpodidbinding label and its AzureIdentityBinding/AzureIdentity, and that clientId/miResId names that identity (a new pod waits up to about 100 s for its assignment). A container restart does not help', transient: false, restart: false };
    // GetTokens failed: the identity matched but AAD/IMDS did not give its token.
    case 403: return { reason: 'an identity matched but getting its token failed: the user-assigned identity is not (or no longer) on the node\'s VMSS/VM, or it was deleted and recreated with the same name. Delete the pod so MIC assigns it again; check MIC and NMI logs. A container restart does not help', transient: false, restart: false };
    // GetPodInfo or ListPodIdentityExceptions failed: NMI cannot list pods (API server unreachable from NMI) or match the caller's IP.
    case 500: return { reason: 'NMI could not match this pod\'s IP to a pod or list pods (is the API server reachable from NMI? check NMI logs). It clears when NMI reaches the API server; a container restart does not help', transient: true, restart: false };
    case 410: return { reason: 'IMDS is updating (410, up to 70 s): retry later', transient: true };
    case 429: return { reason: 'IMDS throttled the request (429): too many token requests on this node', transient: true };
    // 503: NMI's --set-retry-after-header mode while MIC assigns the identity (Retry-After 20), or ADAL's IMDS health check failing.
    default: return status >= 500 ? { reason: 'transient fault in NMI/IMDS', transient: true } : { reason: 'unexpected answer', transient: false };
  }
}

/** The error text NMI/IMDS put in the body (`error`, `error_description`), short, never a token. */
function errorDetail(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const parts = [j.error, j.error_description].filter((x): x is string => typeof x === 'string' && x.length > 0);
    if (parts.length) return `: ${parts.join(': ').slice(0, 300)}`;
  } catch { /* not JSON */ }
  const text = body.trim().slice(0, 200);
  return text && !text.includes('access_token') ? `: ${text}` : '';
}

/** Claims of a JWT, decoded without verifying the signature (see verifyIdentity). */
export function decodeJwtPayload(jwt: string): Record<string, unknown> | undefined {
  const part = jwt.split('.')[1];
  if (!part) return undefined;
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A token request as the app would make it; healthy only on 200 with a non-empty access_token. */
export async function checkIdentity(options: IdentityCheckOptions = {}): Promise<CheckResult> {
  const timeoutMs = options.timeoutMs ?? 4000;
  const fail = (reason: string, transient: boolean, status?: number, restart?: boolean): CheckResult => ({ name: 'identity', ok: false, reason, transient, status, ...(restart === false ? { restart } : {}) });
  const selector = identitySelectorError(options);
  if (selector) return fail(selector, false, undefined, false);
  let a: Answer;
  try {
    a = await get(tokenUrl(options), { Metadata: 'true' }, timeoutMs);
  } catch (e) {
    if (e instanceof TimeoutError) return fail(`token request: ${e.message} (NMI retries while an identity is being assigned; persistent: check NMI logs)`, true);
    return fail(`token endpoint unreachable: ${describeError(e)}`, false);
  }
  if (a.status !== 200) {
    const s = statusReason(a.status);
    return fail(`token request answered ${a.status}${errorDetail(a.body)}: ${s.reason}`, s.transient, a.status, s.restart);
  }
  let token: unknown;
  try { token = (JSON.parse(a.body) as Record<string, unknown>).access_token; } catch { /* handled below */ }
  if (typeof token !== 'string' || token.length === 0) return fail('token response (200) carries no access_token', false, 200);
  const wrong = claimMismatch(token, options);
  if (wrong) return fail(`${wrong}: another identity bound to the pod answered, or the selector names the wrong one`, false, 200);
  return { name: 'identity', ok: true, reason: 'token request succeeded', transient: false, status: 200 };
}

/**
 * With verifyIdentity (default: when clientId or objectId is set), why the token's claims do
 * not name the expected identity, or undefined. The client id is `appid` in v1.0 tokens and
 * `azp` in v2.0 tokens (Microsoft identity platform, "Access token claims reference"), so either
 * may carry it. Decoded, not verified.
 */
export function claimMismatch(token: string, o: Pick<IdentityCheckOptions, 'clientId' | 'objectId' | 'verifyIdentity'>): string | undefined {
  if (!(o.verifyIdentity ?? Boolean(o.clientId || o.objectId))) return undefined;
  const claims = decodeJwtPayload(token) ?? {};
  const str = (name: string) => (typeof claims[name] === 'string' ? claims[name] as string : undefined);
  const appClaim = str('appid') !== undefined ? 'appid' : str('azp') !== undefined ? 'azp' : 'appid/azp';
  const expected: Array<[string, string | undefined, string | undefined]> = [
    [appClaim, o.clientId, str('appid') ?? str('azp')],
    ['oid', o.objectId, str('oid')],
  ];
  for (const [claim, want, got] of expected) {
    if (want && got?.toLowerCase() !== want.toLowerCase()) return `token was issued to another identity (${claim} ${got ?? 'missing'}, expected ${want})`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Azure AD Workload Identity (strategy 9), with the meaning of the shell check of strategies 7
// and 8 (src/checks/scripts.ts `workloadIdentityFunctions`). The federated token and the AAD
// token never leave this file: reasons carry names, paths, times and AAD's error codes only.

/** The env the workload identity webhook adds to a pod labelled azure.workload.identity/use: "true". */
export const WORKLOAD_IDENTITY_ENV = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST'] as const;
export const DEFAULT_WI_SCOPE = 'https://management.azure.com/.default';
export const DEFAULT_WI_PROXY_PORT = 8000;
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/**
 * Set by the webhook on pods annotated for a custom token endpoint (azure-workload-identity v1.6
 * pkg/webhook/consts.go `AzureKubernetesTokenProxyEnvVar`, with AZURE_KUBERNETES_SNI_NAME and
 * AZURE_KUBERNETES_CA_FILE/_DATA): the SDK then posts the client assertion there, not to
 * AZURE_AUTHORITY_HOST, so our own exchange would test a path the app does not take.
 */
export const TOKEN_PROXY_ENV = 'AZURE_KUBERNETES_TOKEN_PROXY';

export interface WorkloadIdentityCheckOptions {
  /** AZURE_CLIENT_ID must equal it (the ServiceAccount's azure.workload.identity/client-id). @default not checked */
  readonly expectClientId?: string;
  /** Exchange the federated token for an AAD token (client credentials): catches a missing federated identity credential. @default false */
  readonly exchange?: boolean;
  /** Scope of the exchanged token. @default 'https://management.azure.com/.default' */
  readonly scope?: string;
  /** Upper bound for the exchange request, ms. @default 4000 */
  readonly timeoutMs?: number;
  /** Port of the migration proxy sidecar whose `GET /readyz` must answer 2xx/3xx. @default not checked */
  readonly proxyPort?: number;
  /** Upper bound for the proxy request, ms. @default 2000 */
  readonly proxyTimeoutMs?: number;
  /** Where AZURE_* are read. @default process.env */
  readonly env?: Record<string, string | undefined>;
  /** Clock for the token's `exp`, for tests. @default Date.now */
  readonly now?: () => number;
}

/** What the webhook put in the pod, and the federated token read from its file (never logged). */
interface FederatedToken { clientId: string; tenantId: string; authorityHost: string; file: string; jwt: string }

const MAX_TOKEN_FILE = 64 * 1024;
/** Within the 1 s the manifest allows for the env and file step. */
const FILE_TIMEOUT_MS = 800;

/**
 * Reads at most MAX_TOKEN_FILE bytes within FILE_TIMEOUT_MS: a wrong path (a FIFO, a device, a
 * huge file, a hung volume) must not stall the probe. O_NONBLOCK: opening a FIFO does not wait for a writer.
 */
async function readBounded(file: string): Promise<string> {
  const read = (async () => {
    const fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(MAX_TOKEN_FILE);
      const { bytesRead } = await fh.read(buf, 0, MAX_TOKEN_FILE, null);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  })();
  return bounded(read, FILE_TIMEOUT_MS, `not read within ${FILE_TIMEOUT_MS / 1000} s`);
}

/**
 * Which variables are missing says what is wrong (azure-workload-identity v1.6
 * pkg/webhook/webhook.go `addEnvironmentVariables`: the webhook sets AZURE_CLIENT_ID from the
 * ServiceAccount annotation azure.workload.identity/client-id and AZURE_TENANT_ID from
 * .../tenant-id or its own config, each only when non-empty and not already in the container;
 * AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST always). The webhook matches pods by the
 * label azure.workload.identity/use: "true" with failurePolicy Fail since v1.0 (deploy/
 * azure-wi-webhook.yaml), so a pod created while it was down is rejected, never started without
 * env. Each of these needs the pod recreated: a container restart cannot help.
 */
function missingEnvReason(missing: readonly string[]): string {
  const recreate = 'then recreate the pod (a container restart does not help)';
  if (missing.length === WORKLOAD_IDENTITY_ENV.length) {
    return `none of ${missing.join(', ')} is set: the workload identity webhook did not mutate this container. The pod lacks the label azure.workload.identity/use: "true" (a label on the pod template, not the ServiceAccount, since webhook v1.0), or this container is listed in the annotation azure.workload.identity/skip-containers. Fix the pod template, ${recreate}`;
  }
  if (missing.length === 1 && missing[0] === 'AZURE_CLIENT_ID') {
    return `AZURE_CLIENT_ID is not set while the other webhook variables are: the pod's ServiceAccount has no annotation azure.workload.identity/client-id (missing, empty or misspelt), the only source the webhook takes it from. Annotate the ServiceAccount with the identity's client id, ${recreate}`;
  }
  if (missing.length === 1 && missing[0] === 'AZURE_TENANT_ID') {
    return `AZURE_TENANT_ID is not set while the other webhook variables are: neither the ServiceAccount annotation azure.workload.identity/tenant-id nor the webhook's configured tenant gives one. Annotate the ServiceAccount, ${recreate}`;
  }
  const plural = missing.length > 1;
  return `${missing.join(', ')} ${plural ? 'are' : 'is'} not set while the other webhook variables are: the container defines ${plural ? 'them' : 'it'} itself, empty (the webhook keeps a variable the container already has), or ServiceAccount annotations azure.workload.identity/client-id / tenant-id are missing. Fix the pod template or ServiceAccount, ${recreate}`;
}

/** The env and the token file; the failure says what to fix (webhook, annotation, projected volume). */
async function readFederatedToken(o: WorkloadIdentityCheckOptions): Promise<FederatedToken | CheckResult> {
  const env = o.env ?? process.env;
  const fail = (reason: string): CheckResult => ({ name: 'workload-identity', ok: false, reason, transient: false });
  const missing = WORKLOAD_IDENTITY_ENV.filter((n) => !env[n]);
  if (missing.length) return { ...fail(missingEnvReason(missing)), restart: false };
  const [clientId, tenantId, file, authorityHost] = WORKLOAD_IDENTITY_ENV.map((n) => env[n]!);
  if (o.expectClientId && clientId.toLowerCase() !== o.expectClientId.toLowerCase()) {
    return { ...fail(`AZURE_CLIENT_ID is ${clientId}, expected ${o.expectClientId}: fix the ServiceAccount annotation azure.workload.identity/client-id (or the container's own AZURE_CLIENT_ID, which the webhook keeps) and recreate the pod; a container restart does not help`), restart: false };
  }
  let text: string;
  try {
    text = await readBounded(file);
  } catch (e) {
    return fail(`federated token file ${file} is missing or unreadable (projected service account token volume): ${describeError(e)}`);
  }
  const jwt = text.trim();
  if (!jwt) return fail(`federated token file ${file} is empty`);
  const exp = decodeJwtPayload(jwt)?.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return fail(`federated token in ${file} has no exp claim (not a JWT?)`);
  const now = (o.now ?? Date.now)();
  if (exp * 1000 <= now) {
    return fail(`federated token in ${file} expired at ${new Date(exp * 1000).toISOString()} (kubelet stopped refreshing the projected token?)`);
  }
  return { clientId, tenantId, authorityHost, file, jwt };
}

/**
 * The webhook's env (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
 * AZURE_AUTHORITY_HOST), AZURE_CLIENT_ID as expected, and the token file readable, non-empty and
 * a JWT whose `exp` is in the future (decoded, not verified). Cheap and local: run it every call.
 */
export async function checkFederatedToken(options: WorkloadIdentityCheckOptions = {}): Promise<CheckResult> {
  const t = await readFederatedToken(options);
  if ('ok' in t) return t;
  const exp = decodeJwtPayload(t.jwt)!.exp as number;
  return { name: 'workload-identity', ok: true, reason: `webhook env set, federated token in ${t.file} valid until ${new Date(exp * 1000).toISOString()}`, transient: false };
}

/**
 * The migration proxy sidecar (azure.workload.identity/inject-proxy-sidecar): `GET
 * http://127.0.0.1:<port>/readyz`. That handler writes "ok" unconditionally
 * (azure-workload-identity v1.6 pkg/proxy/proxy.go `readyzHandler`): it proves the listener is
 * up, not that the proxy can get a token; the exchange (or the app's credential) does that.
 * Never through an HTTP proxy (see `request`).
 */
export async function checkWorkloadIdentityProxy(options: Pick<WorkloadIdentityCheckOptions, 'proxyPort' | 'proxyTimeoutMs'> = {}): Promise<CheckResult> {
  const port = options.proxyPort ?? DEFAULT_WI_PROXY_PORT;
  const timeoutMs = options.proxyTimeoutMs ?? 2000;
  const url = `http://127.0.0.1:${port}/readyz`;
  // Not transient, as NMI: the proxy is in the pod; at start the startup grace covers it.
  const fail = (detail: string, status?: number): CheckResult => ({ name: 'wi-proxy', ok: false, reason: `workload identity proxy sidecar not ready on port ${port}: ${detail}`, transient: false, status });
  let a: Answer;
  try {
    a = await get(url, {}, timeoutMs);
  } catch (e) {
    if (e instanceof TimeoutError) return fail(`${e.message} (proxy hung?)`);
    return fail(`${describeError(e)} (is the azwi-proxy sidecar running? annotation azure.workload.identity/inject-proxy-sidecar)`);
  }
  // As curl --fail / wget: any answer below 400 counts.
  if (a.status >= 200 && a.status < 400) return { name: 'wi-proxy', ok: true, reason: `proxy sidecar ready on port ${port}`, transient: false, status: a.status };
  return fail(`${url} answered ${a.status}`, a.status);
}

/** `${AZURE_AUTHORITY_HOST without trailing /}/${AZURE_TENANT_ID}/oauth2/v2.0/token`. */
export function workloadIdentityTokenUrl(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

/** Anything shaped like a JWT, out of a text that is about to become a reason. */
export function scrub(text: string): string {
  return text.replace(/eyJ[\w-]*\.[\w-]*\.?[\w-]*/g, '<redacted>').replace(/\s+/g, ' ').trim();
}

/** AAD's error and AADSTS code, short; error_description carries subject/issuer, never the assertion (scrubbed anyway). */
export function aadDetail(body: string): { error?: string; code?: string; text: string } {
  let error: string | undefined;
  let description = '';
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    if (typeof j.error === 'string') error = j.error.slice(0, 100);
    if (typeof j.error_description === 'string') description = j.error_description;
  } catch {
    description = body.includes('access_token') ? '' : body;
  }
  const code = /AADSTS\d+/.exec(description)?.[0];
  // What precedes the trace and correlation ids (for AADSTS70021 that includes the assertion's issuer, subject and audience).
  const first = description.split(/\r?\n|\s+Trace ID:/)[0].trim().slice(0, 400);
  const text = [error, first].filter(Boolean).join(': ');
  return { error, code, text: text ? `: ${scrub(text)}` : '' };
}

/** What a rejected exchange means, by AADSTS code, then by OAuth error. */
export function aadReason(status: number, error: string | undefined, code: string | undefined): { reason: string; transient: boolean } {
  const fic = 'no matching federated identity credential: add one to the identity (issuer = the cluster\'s OIDC issuer URL, subject = system:serviceaccount:<namespace>:<service account>, audience api://AzureADTokenExchange; matched case-sensitively), or fix the one there';
  switch (code) {
    case 'AADSTS70021': case 'AADSTS700211': case 'AADSTS700212': case 'AADSTS700213': case 'AADSTS7002138': return { reason: fic, transient: false };
    case 'AADSTS700016': return { reason: 'the application (AZURE_CLIENT_ID) is not found in the tenant: check the service account annotation azure.workload.identity/client-id and AZURE_TENANT_ID', transient: false };
    case 'AADSTS90002': return { reason: 'the tenant (AZURE_TENANT_ID) is not found', transient: false };
    case 'AADSTS700024': return { reason: 'the federated token is outside its valid time range (expired, or the node clock is off)', transient: false };
    case 'AADSTS70011': return { reason: 'the scope is invalid (IDENTITY_HEALTH_WI_SCOPE must name a resource and end in /.default)', transient: false };
    default: break;
  }
  if (status === 429) return { reason: 'AAD throttled the request (429)', transient: true };
  if (status >= 500) return { reason: 'transient fault at AAD', transient: true };
  if (error === 'invalid_client' || status === 401) return { reason: `AAD rejected the client assertion (${error ?? status}): ${fic}`, transient: false };
  if (status === 400) return { reason: `AAD rejected the request${error ? ` (${error})` : ''}: federated identity credential missing or wrong subject/issuer/audience?`, transient: false };
  return { reason: 'unexpected answer', transient: false };
}

/** Network errors that usually clear by themselves (a DNS or connection hiccup), unlike refused or unknown hosts. */
export const TRANSIENT_NET = new Set(['EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * The client-credentials exchange an Azure SDK makes with the federated token as client
 * assertion; healthy only on 200 with a non-empty access_token. 429, 5xx, timeouts and network
 * hiccups are transient; 400/401 (no matching federated identity credential, unknown client or
 * tenant) are hard faults.
 */
async function exchange(t: FederatedToken, o: WorkloadIdentityCheckOptions): Promise<CheckResult> {
  const fail = (reason: string, transient: boolean, status?: number): CheckResult => ({ name: 'wi-exchange', ok: false, reason, transient, status });
  const custom = (o.env ?? process.env)[TOKEN_PROXY_ENV];
  if (custom) {
    return { name: 'wi-exchange', ok: true, transient: false, reason: `token exchange skipped: ${TOKEN_PROXY_ENV} is set (custom token endpoint), so the app's SDK does not exchange at AZURE_AUTHORITY_HOST; pass the app's own credential to check the path it takes` };
  }
  let url: string;
  try {
    url = workloadIdentityTokenUrl(t.authorityHost, t.tenantId);
    if (!/^https?:$/.test(new URL(url).protocol)) throw new Error('not http(s)');
  } catch {
    return fail(`AZURE_AUTHORITY_HOST=${JSON.stringify(t.authorityHost.slice(0, 100))} is not an http(s) URL`, false);
  }
  let proxy: URL | undefined;
  try {
    proxy = proxyFor(url, o.env ?? process.env);
  } catch (e) {
    return fail(`token exchange at ${url}: ${(e as Error).message}`, false);
  }
  // Host only: a proxy URL may carry credentials.
  const via = proxy ? ` via proxy ${proxy.protocol}//${proxy.host}` : '';
  const body = new URLSearchParams({
    client_id: t.clientId,
    client_assertion: t.jwt,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    grant_type: 'client_credentials',
    scope: o.scope ?? DEFAULT_WI_SCOPE,
  }).toString();
  const timeoutMs = o.timeoutMs ?? 4000;
  let a: Answer;
  try {
    a = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept': 'application/json' }, body, proxy }, timeoutMs);
  } catch (e) {
    if (e instanceof TimeoutError) return fail(`token exchange at ${url}${via}: ${e.message} (AAD slow or unreachable from this pod?)`, true);
    if (e instanceof ProxyError) {
      const hint = e.status === 407 ? 'the proxy wants credentials: user:password in HTTPS_PROXY' : 'the proxy refused the tunnel to AZURE_AUTHORITY_HOST';
      return fail(`token exchange at ${url}: ${e.message} (${hint})`, e.status >= 500, e.status);
    }
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const hint = /CERT|SELF_SIGNED|SIGNATURE|TLS|SSL/.test(code)
      ? 'TLS: an HTTPS proxy in the way? its CA goes in NODE_EXTRA_CA_CERTS'
      : proxy ? 'is the proxy in HTTPS_PROXY reachable? NO_PROXY skips it'
        : code === 'ENOTFOUND' ? 'DNS: is AZURE_AUTHORITY_HOST resolvable from the pod?' : 'egress to AZURE_AUTHORITY_HOST blocked?';
    return fail(`token exchange at ${url}${via} failed: ${scrub(describeError(e))} (${hint})`, TRANSIENT_NET.has(code));
  }
  if (a.status !== 200) {
    const d = aadDetail(a.body);
    const s = aadReason(a.status, d.error, d.code);
    return fail(`token exchange at ${url} answered ${a.status}${d.text}: ${s.reason}`, s.transient, a.status);
  }
  let token: unknown;
  try { token = (JSON.parse(a.body) as Record<string, unknown>).access_token; } catch { /* handled below */ }
  if (typeof token !== 'string' || token.length === 0) return fail(`token exchange at ${url} answered 200 without an access_token`, false, 200);
  return { name: 'wi-exchange', ok: true, reason: `token exchange at ${url}${via} succeeded`, transient: false, status: 200 };
}

/**
 * Only the exchange (after reading the env and the file it needs): IdentityHealth caches this
 * part for the TTL. A failure to read the file is reported as the file check reports it.
 */
export async function exchangeFederatedToken(options: WorkloadIdentityCheckOptions = {}): Promise<CheckResult> {
  const t = await readFederatedToken(options);
  if ('ok' in t) return t;
  return exchange(t, options);
}

/**
 * The whole workload identity check, uncached, as the shell check of strategies 7 and 8: the
 * webhook env and token file, then the proxy sidecar (with proxyPort), then the exchange (with
 * exchange). The result is that of the first step that fails (its name says which), else ok.
 */
export async function checkWorkloadIdentity(options: WorkloadIdentityCheckOptions = {}): Promise<CheckResult> {
  const t = await readFederatedToken(options);
  if ('ok' in t) return t;
  if (options.proxyPort !== undefined) {
    const p = await checkWorkloadIdentityProxy(options);
    if (!p.ok) return p;
  }
  if (options.exchange) {
    const x = await exchange(t, options);
    if (!x.ok) return x;
  }
  const steps = ['webhook env and federated token file', options.proxyPort !== undefined ? 'proxy sidecar' : '', options.exchange ? 'token exchange' : ''].filter(Boolean);
  return { name: 'workload-identity', ok: true, reason: `${steps.join(', ')} ok`, transient: false };
}
