/**
 * Readiness and liveness verdicts over the checks, with the probe semantics of the shell probes
 * (src/checks/scripts.ts `probeScript`):
 * - NMI is checked on every call (cheap, on the node), so NMI loss shows within one probe period.
 *   So are, for workload identity, the webhook env, the federated token file and the proxy sidecar.
 * - Token results (pod identity: the IMDS request; workload identity: the AAD exchange) are
 *   cached for tokenCacheTtlMs from the moment the request started, and concurrent callers share
 *   one in-flight request: at most one token request per TTL per process, whatever the probe
 *   periods (IMDS allows about 20 requests/s per node; AAD throttles too).
 * - Readiness fails on any fault. Liveness passes until the first success or until the startup
 *   grace has passed (NMI keeps a new pod's token request waiting up to about 100 s for its
 *   assignment); after that it fails on NMI loss and on hard identity faults at once, and on
 *   transient ones (429, 410, 5xx, timeout) only once they have lasted longer than
 *   transientGraceMs. It never fails on a fault a container restart cannot clear (`restart:
 *   false`: NMI 403/404/500, a pod the workload identity webhook did not mutate, a missing
 *   ServiceAccount annotation): the pod stays NotReady with the reason, without a restart loop.
 */
import {
  checkFederatedToken, checkIdentity, checkNmi, CheckResult, checkWorkloadIdentityProxy, DEFAULT_WI_SCOPE, exchangeFederatedToken,
  IdentityCheckOptions, identitySelectorError, NmiCheckOptions, WorkloadIdentityCheckOptions,
} from './checks';
import { checkCredential, resourceScope, TokenCredentialLike } from './credential';

export type Probe = 'readiness' | 'liveness';
export type CheckKind = 'nmi' | 'identity' | 'workload-identity';

export interface IdentityHealthOptions {
  /**
   * 'nmi': NMI health only (strategy 3); 'identity': a token request, after the NMI check unless
   * checkNmi is false (strategy 6); 'workload-identity': the webhook env and federated token file,
   * then the proxy sidecar and the AAD exchange when configured (strategy 9; no NMI).
   * @default 'identity'
   */
  readonly check?: CheckKind;
  /** With check 'identity': check NMI before the token request (catches NMI loss at once; needs HOST_IP). @default true */
  readonly checkNmi?: boolean;
  readonly nmi?: NmiCheckOptions;
  readonly identity?: IdentityCheckOptions;
  /** With check 'workload-identity'. @default env and token file only */
  readonly workloadIdentity?: WorkloadIdentityCheckOptions;
  /**
   * The app's own credential (e.g. @azure/identity's DefaultAzureCredential, WorkloadIdentityCredential
   * or ManagedIdentityCredential, or any object with `getToken(scopes)`): the token step calls it
   * instead of making its own request (check 'identity': instead of the IMDS request, scope from
   * identity.resource; check 'workload-identity': instead of the AAD exchange, whatever `exchange`
   * says, scope workloadIdentity.scope). Cached for the TTL like the request it replaces.
   * @default none: the module's own standard-library request
   */
  readonly credential?: TokenCredentialLike;
  /** A token result (IMDS request, or AAD exchange) is reused this long. @default 20000 */
  readonly tokenCacheTtlMs?: number;
  /** Liveness passes until the first success or for this long after start. @default 180000 */
  readonly startupGraceMs?: number;
  /**
   * Transient token faults fail liveness only after lasting this long. Counted from the first
   * failed request, so it must exceed tokenCacheTtlMs (a 5 s burst stays visible for a whole
   * TTL). 60 s outlasts IMDS's 410 window (up to 70 s) together with liveness's 3 x 10 s.
   * @default 60000
   */
  readonly transientGraceMs?: number;
  /** Called when the verdict of a check changes (never with a token). @default no logging */
  readonly log?: (line: string) => void;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

export interface HealthReport {
  readonly probe: Probe;
  readonly ok: boolean;
  /** The first failure, or why a failure does not count (yet), or 'ok'. */
  readonly reason: string;
  readonly checks: readonly CheckResult[];
}

/** Holds the cache and the timers; one per process (create it once, at start). */
export class IdentityHealth {
  private readonly o: IdentityHealthOptions;
  private readonly now: () => number;
  private readonly started: number;
  private everOk = false;
  private cached?: { result: CheckResult; at: number };
  private inflight?: Promise<CheckResult>;
  private transientSince?: number;
  private readonly last = new Map<string, string>();

  constructor(options: IdentityHealthOptions = {}) {
    if (options.check === 'nmi' && options.checkNmi === false) throw new Error("identity-health: check 'nmi' with checkNmi false checks nothing");
    const selector = (options.check ?? 'identity') === 'identity' ? identitySelectorError(options.identity ?? {}) : undefined;
    if (selector) throw new Error(`identity-health: ${selector}`);
    this.o = options;
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  get kind(): CheckKind { return this.o.check ?? 'identity'; }

  /** Upper bound of one evaluation, ms: probes need timeoutSeconds above it. */
  get boundMs(): number {
    if (this.kind === 'workload-identity') {
      const w = this.o.workloadIdentity ?? {};
      // 1 s for the env and file, as the manifest's bound (strategies/options.ts appCheckPlan).
      return 1000 + (w.proxyPort !== undefined ? (w.proxyTimeoutMs ?? 2000) : 0) + (w.exchange || this.o.credential ? (w.timeoutMs ?? 4000) : 0);
    }
    const nmi = this.kind === 'nmi' || this.o.checkNmi !== false ? (this.o.nmi?.timeoutMs ?? 1000) : 0;
    return nmi + (this.kind === 'identity' ? (this.o.identity?.timeoutMs ?? 4000) : 0);
  }

  /** The identity stack (NMI, then the token; or webhook env and file, proxy, exchange) as one list of results. */
  async check(): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    if (this.kind === 'workload-identity') {
      // As the shell (wi && proxy && token): each step only after the previous passed.
      const w = this.o.workloadIdentity ?? {};
      const file = await checkFederatedToken(w);
      results.push(file);
      if (file.ok && w.proxyPort !== undefined) results.push(await checkWorkloadIdentityProxy(w));
      if (results.every((r) => r.ok) && (w.exchange || this.o.credential)) results.push(await this.token());
      if (results.every((r) => r.ok)) this.everOk = true;
      return this.note(results);
    }
    if (this.kind === 'nmi' || this.o.checkNmi !== false) {
      const nmi = await checkNmi(this.o.nmi);
      results.push(nmi);
      // As the shell: no token request through an NMI that is not ready (it would reach IMDS
      // directly, or stall); the NMI reason is the one to act on.
      if (!nmi.ok) return this.note(results);
    }
    if (this.kind === 'identity') results.push(await this.token());
    if (results.every((r) => r.ok)) this.everOk = true;
    return this.note(results);
  }

  async readiness(): Promise<HealthReport> {
    const checks = await this.check();
    const failed = checks.find((r) => !r.ok);
    return { probe: 'readiness', ok: !failed, reason: failed ? failed.reason : 'ok', checks };
  }

  async liveness(): Promise<HealthReport> {
    const checks = await this.check();
    const failed = checks.find((r) => !r.ok);
    const report = (ok: boolean, reason: string): HealthReport => ({ probe: 'liveness', ok, reason, checks });
    if (!failed) return report(true, 'ok');
    const now = this.now();
    if (!this.everOk && now - this.started < (this.o.startupGraceMs ?? 180_000)) {
      const left = Math.ceil(((this.o.startupGraceMs ?? 180_000) - (now - this.started)) / 1000);
      return report(true, `no success yet, liveness holds during the startup grace (${left} s left): ${failed.reason}`);
    }
    if (failed.restart === false) return report(true, `a restart cannot fix this, liveness holds (readiness fails): ${failed.reason}`);
    if (failed.transient && this.transientSince !== undefined) {
      const lasted = now - this.transientSince;
      const grace = this.o.transientGraceMs ?? 60_000;
      if (lasted <= grace) return report(true, `transient fault for ${Math.round(lasted / 1000)} s, liveness holds up to ${grace / 1000} s: ${failed.reason}`);
      return report(false, `transient fault lasting ${Math.round(lasted / 1000)} s (over ${grace / 1000} s): ${failed.reason}`);
    }
    return report(false, failed.reason);
  }

  /** Cached token result (IMDS, or AAD exchange); callers during a request wait for that request instead of starting one. */
  private token(): Promise<CheckResult> {
    const now = this.now();
    if (this.cached && now - this.cached.at >= 0 && now - this.cached.at < (this.o.tokenCacheTtlMs ?? 20_000)) {
      return Promise.resolve(this.cached.result);
    }
    if (!this.inflight) {
      const request = this.o.credential ? this.credentialCheck(this.o.credential)
        : this.kind === 'workload-identity' ? exchangeFederatedToken(this.o.workloadIdentity) : checkIdentity(this.o.identity);
      this.inflight = request.then((result) => {
        // A file that vanished between the file check and the exchange is not an exchange result.
        if (result.name === 'workload-identity') return result;
        this.cached = { result, at: now };
        if (result.ok || !result.transient) this.transientSince = undefined;
        else this.transientSince ??= now;
        return result;
      }).finally(() => { this.inflight = undefined; });
    }
    return this.inflight;
  }

  private credentialCheck(credential: TokenCredentialLike): Promise<CheckResult> {
    if (this.kind === 'workload-identity') {
      const w = this.o.workloadIdentity ?? {};
      return checkCredential({ credential, scopes: w.scope ?? DEFAULT_WI_SCOPE, timeoutMs: w.timeoutMs, clientId: w.expectClientId, system: 'workload-identity' });
    }
    const i = this.o.identity ?? {};
    return checkCredential({ credential, scopes: resourceScope(i.resource), timeoutMs: i.timeoutMs, clientId: i.clientId, objectId: i.objectId, verifyIdentity: i.verifyIdentity, system: 'pod-identity' });
  }

  /** Log changes only (verdict or reason), so a steady state is quiet and a fault is one line. */
  private note(results: CheckResult[]): CheckResult[] {
    for (const r of results) {
      const line = `identity-health: ${r.name} ${r.ok ? 'ok' : 'fail'}: ${r.reason}`;
      if (this.last.get(r.name) !== line) {
        this.o.log?.(line);
        this.last.set(r.name, line);
      }
    }
    return results;
  }
}
