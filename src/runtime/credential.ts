/**
 * The token check through the app's own credential: any object with `getToken(scopes)`, as the
 * credentials of @azure/identity (typed structurally: nothing here imports it). The health check
 * then takes the path the app takes, SDK caches and retries included, and catches what a
 * separate request cannot: an SDK that holds a stale federated token (@azure/identity's
 * WorkloadIdentityCredential keeps the file's content for 5 minutes) and so gets AADSTS700024
 * while the file itself is fresh. The token never leaves this file.
 */
import { aadReason, bounded, CheckResult, claimMismatch, DEFAULT_RESOURCE, IdentityCheckOptions, scrub, statusReason, TimeoutError } from './checks';

/** What the check needs of a credential; @azure/identity's TokenCredential has this shape. */
export interface TokenCredentialLike {
  getToken(scopes: string | string[], options?: { abortSignal?: AbortSignal }): Promise<{ token: string } | null>;
}

export interface CredentialCheckOptions extends Pick<IdentityCheckOptions, 'clientId' | 'objectId' | 'verifyIdentity'> {
  readonly credential: TokenCredentialLike;
  /** The scope asked for, e.g. 'https://management.azure.com/.default'. */
  readonly scopes: string | string[];
  /**
   * 'pod-identity': an HTTP status in the error means what NMI means by it; 'workload-identity':
   * what AAD means. @default 'workload-identity'
   */
  readonly system?: 'pod-identity' | 'workload-identity';
  /** Upper bound, ms; the credential also gets an abort signal. @default 4000 */
  readonly timeoutMs?: number;
}

/** `https://vault.azure.net` or `https://vault.azure.net/` -> `https://vault.azure.net/.default`. */
export function resourceScope(resource: string = DEFAULT_RESOURCE): string {
  return `${resource.replace(/\/+$/, '')}/.default`;
}

interface ErrorLike { name?: unknown; message?: unknown; statusCode?: unknown; cause?: { status?: unknown }; errorResponse?: { error?: unknown; errorDescription?: unknown } }

/**
 * The HTTP status behind a credential's error: AuthenticationError's statusCode, the MSAL error
 * in `cause` (its status), or the "Http status code: N" that @azure/identity 4.x's
 * ManagedIdentityCredential puts in its message (a CredentialUnavailableError wrapping MSAL's).
 */
function statusOf(e: ErrorLike): number | undefined {
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.cause?.status === 'number') return e.cause.status;
  const m = /Http status code: (\d{3})\b/.exec(typeof e.message === 'string' ? e.message : '');
  return m ? Number(m[1]) : undefined;
}

/** What a credential's error means: AADSTS code first, then HTTP status, then the error's name. */
function meaning(e: ErrorLike, system: 'pod-identity' | 'workload-identity'): { reason: string; transient: boolean; restart?: boolean } {
  const text = `${typeof e.message === 'string' ? e.message : ''} ${typeof e.errorResponse?.errorDescription === 'string' ? e.errorResponse.errorDescription : ''}`;
  const code = /AADSTS\d+/.exec(text)?.[0];
  const status = statusOf(e);
  if (code === 'AADSTS700024') {
    // The runtime reads the file fresh (and checked its exp before this): the credential presented an older copy.
    return { reason: 'the credential presented a federated token outside its valid time range (AADSTS700024) while the file holds a valid one: the SDK holds a stale copy (@azure/identity keeps the file\'s content 5 minutes), or the node clock is off. A restart makes the app read the file again', transient: false, restart: true };
  }
  if (code || (status !== undefined && system === 'workload-identity')) {
    const error = typeof e.errorResponse?.error === 'string' ? e.errorResponse.error : undefined;
    return aadReason(status ?? 400, error, code);
  }
  if (status !== undefined) return statusReason(status);
  if (e.name === 'CredentialUnavailableError') return { reason: 'the credential is unavailable (its env or endpoint is missing, or every attempt failed)', transient: false };
  return { reason: 'the credential could not get a token', transient: false };
}

/** One getToken call, bounded; healthy only when it yields a non-empty token (with the expected claims, when asked). */
export async function checkCredential(o: CredentialCheckOptions): Promise<CheckResult> {
  const timeoutMs = o.timeoutMs ?? 4000;
  const fail = (reason: string, transient: boolean, restart?: boolean): CheckResult => ({ name: 'credential', ok: false, reason, transient, ...(restart === false ? { restart } : {}) });
  const abort = new AbortController();
  const call = Promise.resolve().then(() => o.credential.getToken(o.scopes, { abortSignal: abort.signal }));
  let answer: Awaited<ReturnType<TokenCredentialLike['getToken']>>;
  try {
    // Credentials retry (MSAL's IMDS policy for 15 s and more) and may not stop at the signal: the timer bounds the answer.
    answer = await bounded(call, timeoutMs, `no answer within ${timeoutMs / 1000} s`, () => abort.abort());
  } catch (e) {
    if (e instanceof TimeoutError) return fail(`credential.getToken(${JSON.stringify(o.scopes)}): ${e.message} (the SDK retries: IMDS/NMI or AAD slow, throttling or unreachable?)`, true);
    const err = (e && typeof e === 'object' ? e : { message: String(e) }) as ErrorLike;
    const m = meaning(err, o.system ?? 'workload-identity');
    const detail = scrub(typeof err.message === 'string' ? err.message : String(e)).slice(0, 400);
    return fail(`credential.getToken(${JSON.stringify(o.scopes)}) failed: ${typeof err.name === 'string' ? `${err.name}: ` : ''}${detail}: ${m.reason}`, m.transient, m.restart);
  }
  if (!answer || typeof answer.token !== 'string' || answer.token.length === 0) return fail('credential.getToken returned no token', false);
  const wrong = claimMismatch(answer.token, o);
  if (wrong) return fail(`${wrong}: the credential is configured for another identity than the one expected`, false);
  return { name: 'credential', ok: true, reason: `credential.getToken(${JSON.stringify(o.scopes)}) succeeded`, transient: false };
}
