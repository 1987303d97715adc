/**
 * Options from the env that strategies 3, 6 and 9 put on the app container (RUNTIME_ENV), so the
 * manifest, not the app code, decides what is checked. A malformed value throws at start with
 * the variable's name rather than silently falling back to a default.
 */
import { DEFAULT_NMI_PORT, WorkloadIdentityCheckOptions } from './checks';
import { RUNTIME_ENV } from './env';
import { IdentityHealthOptions } from './monitor';

type Env = Record<string, string | undefined>;

function seconds(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`identity-health: env ${name}=${JSON.stringify(raw)} is not a number of seconds`);
  return n * 1000;
}

function bool(env: Env, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new Error(`identity-health: env ${name}=${JSON.stringify(raw)} must be true or false`);
}

function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

function port(env: Env, name: string, fallback: number): number {
  const raw = str(env, name);
  const n = Number(raw ?? fallback);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`identity-health: env ${name}=${JSON.stringify(raw)} is not a port`);
  return n;
}

/**
 * Strategy 9. The AZURE_* env the webhook sets is read from the same map at every check, so a
 * given map never falls back to process.env.
 */
function workloadIdentityFromEnv(env: Env): WorkloadIdentityCheckOptions {
  const exchange = bool(env, RUNTIME_ENV.wiExchange) ?? false;
  const proxy = str(env, RUNTIME_ENV.wiProxyPort);
  return {
    expectClientId: str(env, RUNTIME_ENV.clientId),
    exchange,
    scope: str(env, RUNTIME_ENV.wiScope),
    timeoutMs: seconds(env, RUNTIME_ENV.tokenTimeout, 4),
    proxyPort: proxy === undefined ? undefined : port(env, RUNTIME_ENV.wiProxyPort, 0),
    env,
  };
}

/**
 * Reads RUNTIME_ENV (and HOST_IP). Unset variables take the defaults the strategies use;
 * without IDENTITY_HEALTH_CHECK the full identity check runs.
 */
export function fromEnv(env: Env = process.env): IdentityHealthOptions {
  const check = str(env, RUNTIME_ENV.check) ?? 'identity';
  if (check !== 'nmi' && check !== 'identity' && check !== 'workload-identity') {
    throw new Error(`identity-health: env ${RUNTIME_ENV.check}=${JSON.stringify(check)} must be nmi, identity or workload-identity`);
  }
  const graces = {
    tokenCacheTtlMs: seconds(env, RUNTIME_ENV.tokenCacheTtl, 20),
    startupGraceMs: seconds(env, RUNTIME_ENV.startupGrace, 180),
    transientGraceMs: seconds(env, RUNTIME_ENV.transientGrace, 60),
  };
  // Workload identity has no NMI and no HOST_IP.
  if (check === 'workload-identity') return { check, workloadIdentity: workloadIdentityFromEnv(env), ...graces };
  const nmiPort = port(env, RUNTIME_ENV.nmiPort, DEFAULT_NMI_PORT);
  const checkNmi = bool(env, RUNTIME_ENV.checkNmi);
  if (check === 'nmi' && checkNmi === false) throw new Error(`identity-health: env ${RUNTIME_ENV.checkNmi}=false with ${RUNTIME_ENV.check}=nmi checks nothing`);
  return {
    check,
    checkNmi,
    // '' rather than undefined: a given env map must not fall back to process.env.HOST_IP.
    nmi: { hostIp: str(env, 'HOST_IP') ?? '', port: nmiPort, timeoutMs: seconds(env, RUNTIME_ENV.nmiTimeout, 1) },
    identity: {
      resource: str(env, RUNTIME_ENV.resource),
      apiVersion: str(env, RUNTIME_ENV.apiVersion),
      clientId: str(env, RUNTIME_ENV.clientId),
      objectId: str(env, RUNTIME_ENV.objectId),
      miResId: str(env, RUNTIME_ENV.miResId),
      verifyIdentity: bool(env, RUNTIME_ENV.verifyIdentity),
      timeoutMs: seconds(env, RUNTIME_ENV.tokenTimeout, 4),
      imdsEndpoint: str(env, RUNTIME_ENV.imdsEndpoint),
    },
    ...graces,
  };
}
