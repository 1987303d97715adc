/**
 * HTTP handlers for kubelet's httpGet probes: 200 when healthy, 503 when not, with a small JSON
 * body that carries the reason. They take `(req, res)` as node:http and Express do, and a
 * Fastify `reply` (code/header/send). The app's own checks join the identity checks.
 */
import { bounded, CheckResult } from './checks';
import { HealthReport, IdentityHealth, IdentityHealthOptions, Probe } from './monitor';

export interface AppCheck {
  readonly name: string;
  /** Healthy when it returns true, undefined or `{ ok: true }`; unhealthy on false, `{ ok: false, reason }` or a throw. */
  readonly check: () => unknown;
  /** Also count it for liveness (a failure restarts the container): only for faults a restart fixes. @default false */
  readonly liveness?: boolean;
}

export interface HealthHandlersOptions extends IdentityHealthOptions {
  /** The app's own checks. @default none */
  readonly checks?: readonly AppCheck[];
  /** @default '/readyz' */
  readonly readinessPath?: string;
  /** @default '/livez' */
  readonly livenessPath?: string;
  /** Bound for each app check, ms: the answer must beat the probe's timeoutSeconds. @default the identity checks' bound */
  readonly appCheckTimeoutMs?: number;
  /** An existing instance to share (one cache per process). @default a new one from these options */
  readonly health?: IdentityHealth;
}

/** What the handlers need from a response: node:http / Express, or a Fastify reply. */
export interface ResponseLike {
  statusCode?: number;
  setHeader?(name: string, value: string): unknown;
  end?(body?: string): unknown;
  code?(status: number): unknown;
  header?(name: string, value: string): unknown;
  send?(body?: unknown): unknown;
}
export interface RequestLike { url?: string; method?: string }
export type Handler = (req: RequestLike, res: ResponseLike) => Promise<void>;

export interface HealthHandlers {
  readonly health: IdentityHealth;
  readonly readiness: Handler;
  readonly liveness: Handler;
  /** For node:http: answers readinessPath and livenessPath and returns true, else returns false. */
  handle(req: RequestLike, res: ResponseLike): boolean;
  /** The verdict without HTTP (any other framework). */
  report(probe: Probe): Promise<HealthReport>;
}

async function runAppCheck(c: AppCheck, timeoutMs: number): Promise<CheckResult> {
  const fail = (reason: string): CheckResult => ({ name: c.name, ok: false, reason, transient: false });
  try {
    const v = await bounded(Promise.resolve().then(c.check), timeoutMs, `no answer within ${timeoutMs / 1000} s`);
    if (v === true || v === undefined) return { name: c.name, ok: true, reason: 'ok', transient: false };
    if (v && typeof v === 'object' && 'ok' in v) {
      const r = v as { ok: unknown; reason?: unknown };
      return { name: c.name, ok: r.ok === true, reason: typeof r.reason === 'string' ? r.reason : r.ok === true ? 'ok' : 'check failed', transient: false };
    }
    return fail('check failed');
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}

function send(req: RequestLike, res: ResponseLike, r: HealthReport): void {
  const status = r.ok ? 200 : 503;
  const body = JSON.stringify({
    status: r.ok ? 'ok' : 'fail', probe: r.probe, reason: r.reason,
    // restart: false tells on-call that liveness holds on purpose (only fixing the cluster or recreating the pod helps).
    checks: r.checks.map((c) => ({ name: c.name, ok: c.ok, reason: c.reason, ...(c.ok ? {} : { transient: c.transient, ...(c.restart === false ? { restart: false } : {}) }) })),
  });
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
  if (typeof res.code === 'function' && typeof res.send === 'function') {
    // Fastify reply.
    res.code(status);
    for (const [k, v] of Object.entries(headers)) res.header?.(k, v);
    res.send(body);
    return;
  }
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader?.(k, v);
  res.end?.(req.method === 'HEAD' ? undefined : body);
}

export function createHealthHandlers(options: HealthHandlersOptions = {}): HealthHandlers {
  const health = options.health ?? new IdentityHealth(options);
  const checks = options.checks ?? [];
  const appTimeout = options.appCheckTimeoutMs ?? health.boundMs;
  const readinessPath = options.readinessPath ?? '/readyz';
  const livenessPath = options.livenessPath ?? '/livez';

  async function report(probe: Probe): Promise<HealthReport> {
    // App checks run beside the identity checks, so the answer takes the longer of the two, not the sum.
    const app = checks.filter((c) => probe === 'readiness' || c.liveness);
    const [identity, appResults] = await Promise.all([
      probe === 'readiness' ? health.readiness() : health.liveness(),
      Promise.all(app.map((c) => runAppCheck(c, appTimeout))),
    ]);
    const appFailed = appResults.find((r) => !r.ok);
    const ok = identity.ok && !appFailed;
    const reason = !identity.ok ? identity.reason : appFailed ? `${appFailed.name}: ${appFailed.reason}` : identity.reason;
    return { probe, ok, reason, checks: [...identity.checks, ...appResults] };
  }

  const handler = (probe: Probe): Handler => async (req, res) => {
    let r: HealthReport;
    try {
      r = await report(probe);
    } catch (e) {
      // A bug must show as unhealthy with its message, not as a hung probe.
      r = { probe, ok: false, reason: `health check error: ${e instanceof Error ? e.message : String(e)}`, checks: [] };
    }
    send(req, res, r);
  };
  const readiness = handler('readiness');
  const liveness = handler('liveness');

  return {
    health, readiness, liveness, report,
    handle(req, res) {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (path === readinessPath) { void readiness(req, res); return true; }
      if (path === livenessPath) { void liveness(req, res); return true; }
      return false;
    },
  };
}
