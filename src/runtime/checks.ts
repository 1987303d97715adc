/**
 * The two identity checks, uncached, with the same meaning as the shell checks of strategies 2
 * and 5 (src/checks/scripts.ts): NMI is healthy only on 200 with body `Active`; a token request
 * is healthy only on 200 with a non-empty access_token (and, optionally, the expected identity's
 * claims). Node standard library only. The token never leaves this file.
 */
import http from 'node:http';

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
  /** Client id of the user-assigned identity (`client_id`). */
  readonly clientId?: string;
  /** Object id of the identity (`object_id`). */
  readonly objectId?: string;
  /** ARM resource id of the identity (`mi_res_id`). */
  readonly miResId?: string;
  /** Upper bound for the request, ms. @default 4000 */
  readonly timeoutMs?: number;
  /**
   * Compare the token's `appid` with clientId and `oid` with objectId, so a token IMDS issued for
   * the node's own identity (NMI not intercepting) fails. The JWT payload is decoded, NOT
   * verified: this tells which identity answered, it is no authentication.
   * @default true when clientId or objectId is set
   */
  readonly verifyIdentity?: boolean;
  /** Where the token endpoint is; only tests and local runs change it. @default 'http://169.254.169.254' */
  readonly imdsEndpoint?: string;
}

interface Answer { status: number; body: string }

class TimeoutError extends Error {}

const MAX_BODY = 64 * 1024;

/**
 * GET with a hard bound on the whole exchange (connect + answer + body). A fresh connection each
 * time (agent: false): a pooled keep-alive socket could hide that NMI is gone.
 */
function get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (f: () => void) => { if (!settled) { settled = true; clearTimeout(timer); f(); } };
    const req = http.get(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < MAX_BODY) body += c; });
      res.on('end', () => settle(() => resolve({ status: res.statusCode ?? 0, body })));
      res.on('error', (e) => settle(() => reject(e)));
    });
    req.on('error', (e) => settle(() => reject(e)));
    // Bounds connect, headers and body alike; it wins over the error the destroyed socket reports.
    timer = setTimeout(() => {
      settle(() => reject(new TimeoutError(`no answer within ${timeoutMs / 1000} s`)));
      req.destroy();
    }, timeoutMs);
  });
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

export function tokenUrl(o: IdentityCheckOptions = {}): string {
  const q = new URLSearchParams({ 'api-version': o.apiVersion ?? DEFAULT_API_VERSION, 'resource': o.resource ?? DEFAULT_RESOURCE });
  if (o.clientId) q.set('client_id', o.clientId);
  if (o.objectId) q.set('object_id', o.objectId);
  if (o.miResId) q.set('mi_res_id', o.miResId);
  return `${(o.imdsEndpoint ?? DEFAULT_IMDS_ENDPOINT).replace(/\/+$/, '')}${TOKEN_PATH}?${q}`;
}

/** What to look at, per status: NMI and IMDS both answer on 169.254.169.254. */
function statusReason(status: number): { reason: string; transient: boolean } {
  if (status === 400) return { reason: 'bad request: several identities are assigned and none is selected (set clientId, objectId or miResId), or the Metadata header was dropped', transient: false };
  if (status === 403 || status === 404) return { reason: 'the pod has no identity: not bound (label aadpodidbinding / AzureIdentityBinding) or no AzureAssignedIdentity yet (new pod: assignment takes up to 80 s)', transient: false };
  if (status === 410) return { reason: 'IMDS is updating (410, up to 70 s): retry later', transient: true };
  if (status === 429) return { reason: 'IMDS throttled the request (429): too many token requests on this node', transient: true };
  if (status >= 500) return { reason: 'transient fault in NMI/IMDS', transient: true };
  return { reason: 'unexpected answer', transient: false };
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
  const fail = (reason: string, transient: boolean, status?: number): CheckResult => ({ name: 'identity', ok: false, reason, transient, status });
  let a: Answer;
  try {
    a = await get(tokenUrl(options), { Metadata: 'true' }, timeoutMs);
  } catch (e) {
    if (e instanceof TimeoutError) return fail(`token request: ${e.message} (NMI retries while an identity is being assigned; persistent: check NMI logs)`, true);
    return fail(`token endpoint unreachable: ${describeError(e)}`, false);
  }
  if (a.status !== 200) {
    const s = statusReason(a.status);
    return fail(`token request answered ${a.status}${errorDetail(a.body)}: ${s.reason}`, s.transient, a.status);
  }
  let token: unknown;
  try { token = (JSON.parse(a.body) as Record<string, unknown>).access_token; } catch { /* handled below */ }
  if (typeof token !== 'string' || token.length === 0) return fail('token response (200) carries no access_token', false, 200);
  const verify = options.verifyIdentity ?? Boolean(options.clientId || options.objectId);
  if (verify) {
    const claims = decodeJwtPayload(token);
    const expected: Array<[string, string | undefined]> = [['appid', options.clientId], ['oid', options.objectId]];
    for (const [claim, want] of expected) {
      if (!want) continue;
      const got = claims?.[claim];
      if (typeof got !== 'string' || got.toLowerCase() !== want.toLowerCase()) {
        return fail(`token was issued to another identity (${claim} ${typeof got === 'string' ? got : 'missing'}, expected ${want}): is NMI intercepting token requests on this node?`, false, 200);
      }
    }
  }
  return { name: 'identity', ok: true, reason: 'token request succeeded', transient: false, status: 200 };
}
