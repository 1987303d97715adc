/**
 * Strategy options as command-line flags: the one place that maps flags to the option objects
 * of strategies/options.ts. Values stay strings until here and are converted only when they are
 * plainly numeric, so a hostile value (`--nmi-port '80; id'`) reaches the core's validators
 * unchanged and fails with the core's OptionError message, never NaN or a silent default.
 */
import type { Argv } from 'yargs';
import { UsageError } from './errors';

type Kind = 'int' | 'seconds' | 'string' | 'list' | 'bool' | 'portOrName' | 'boolOrPort';
interface Flag { readonly flag: string; readonly path: readonly string[]; readonly kind: Kind; readonly describe: string }

const TIMING_FIELDS: ReadonlyArray<[string, string, Kind, string]> = [
  ['period', 'periodSeconds', 'seconds', 'seconds between probes'],
  ['timeout', 'timeoutSeconds', 'seconds', "probe timeout; must exceed the check's own bound"],
  ['failure-threshold', 'failureThreshold', 'int', 'failures before NotReady / restart'],
  ['success-threshold', 'successThreshold', 'int', 'successes before Ready again'],
  ['initial-delay', 'initialDelaySeconds', 'seconds', 'prefer the startup probe to a delay'],
];

export const STRATEGY_FLAGS: readonly Flag[] = [
  { flag: 'nmi-port', path: ['nmiPort'], kind: 'int', describe: 'NMI health port [default: 8085]' },
  { flag: 'nmi-timeout', path: ['nmiTimeout'], kind: 'seconds', describe: 'bound of one NMI health request, seconds' },
  { flag: 'containers', path: ['containers'], kind: 'list', describe: 'containers that get the probes/env (comma-separated or repeated) [default: the first]' },
  { flag: 'pod-identity-binding', path: ['podIdentityBinding'], kind: 'string', describe: 'set pod label aadpodidbinding to this value' },
  { flag: 'resource', path: ['resource'], kind: 'string', describe: 'token audience [default: https://management.azure.com/]' },
  { flag: 'client-id', path: ['clientId'], kind: 'string', describe: 'pod identity: user-assigned identity client id (client_id); workload identity: AZURE_CLIENT_ID must equal it, ServiceAccounts get azure.workload.identity/client-id' },
  { flag: 'object-id', path: ['objectId'], kind: 'string', describe: 'refused with pod identity: NMI never reads object_id (use --client-id or --mi-res-id)' },
  { flag: 'mi-res-id', path: ['miResId'], kind: 'string', describe: 'identity ARM resource id (sent as msi_res_id)' },
  { flag: 'api-version', path: ['apiVersion'], kind: 'string', describe: 'IMDS api-version [default: 2018-02-01]' },
  { flag: 'verify-identity', path: ['verifyIdentity'], kind: 'bool', describe: "check the token's appid (v1.0) or azp (v2.0) claim equals --client-id [default: true with --client-id]" },
  { flag: 'check-nmi', path: ['checkNmi'], kind: 'bool', describe: 'check NMI before the token request [default: true]' },
  { flag: 'request-timeout', path: ['requestTimeout'], kind: 'seconds', describe: 'bound of one token request (exchange), seconds [default: 4 in probes; init: 110 pod identity (above the NMI retry window), 10 workload identity]' },
  { flag: 'exchange', path: ['exchange'], kind: 'bool', describe: 'workload identity: exchange the federated token at AAD (catches a missing federated credential) [default: true in init, false in probes]' },
  { flag: 'scope', path: ['scope'], kind: 'string', describe: 'workload identity: scope of the exchanged token [default: https://management.azure.com/.default]' },
  { flag: 'proxy-sidecar', path: ['proxySidecar'], kind: 'boolOrPort', describe: 'workload identity: also require the migration proxy sidecar /readyz (bare flag: port 8000, or give the port)' },
  { flag: 'use-label', path: ['useLabel'], kind: 'bool', describe: 'workload identity: set pod label azure.workload.identity/use: "true" (--no-use-label to leave it) [default: true]' },
  { flag: 'client', path: ['client'], kind: 'string', describe: 'HTTP client: curl | wget (| az for identity-init) [default: curl]' },
  { flag: 'image', path: ['image'], kind: 'string', describe: 'init container image (pin by digest) [default: per client]' },
  { flag: 'interval', path: ['interval'], kind: 'seconds', describe: 'init: seconds between tries [default: 2]' },
  { flag: 'deadline', path: ['deadline'], kind: 'seconds', describe: 'init: give up (fail loudly) after this many seconds [default: 300]' },
  { flag: 'sidecar-image', path: ['sidecarImage'], kind: 'string', describe: 'image of the sidecar used by --on-conflict sidecar' },
  { flag: 'startup-grace', path: ['startupGrace'], kind: 'seconds', describe: 'liveness holds until the first success or this long [default: 180]' },
  { flag: 'token-cache-ttl', path: ['tokenCacheTtl'], kind: 'seconds', describe: 'reuse a token result this long (IMDS load) [default: 20]' },
  { flag: 'port', path: ['port'], kind: 'portOrName', describe: "app health endpoint port, number or name [default: the container's first port]" },
  { flag: 'readiness-path', path: ['readinessPath'], kind: 'string', describe: 'app readiness path [default: /readyz]' },
  { flag: 'liveness-path', path: ['livenessPath'], kind: 'string', describe: 'app liveness path [default: /livez]' },
  { flag: 'scheme', path: ['scheme'], kind: 'string', describe: 'HTTP | HTTPS [default: HTTP]' },
  { flag: 'transient-grace', path: ['transientGrace'], kind: 'seconds', describe: 'app check: how long 429/410/5xx/timeouts may last before liveness fails' },
  ...(['cpu-request', 'memory-request', 'cpu-limit', 'memory-limit'] as const).map((f): Flag => ({
    flag: f, path: ['resources', f.replace(/-(\w)/, (_, c: string) => c.toUpperCase())], kind: 'string', describe: `${f.replace('-', ' ')} of the added container`,
  })),
  ...(['readiness', 'liveness', 'startup'] as const).flatMap((probe) => TIMING_FIELDS.map(([f, key, kind, d]): Flag => ({
    flag: `${probe}-${f}`, path: [probe, key], kind, describe: `${probe} probe: ${d}`,
  }))),
];

const GROUP = 'Strategy options (see `identity-health explain <strategy>` for which apply):';

/** Adds every strategy flag (but `except`), grouped, as strings (booleans as booleans) without defaults. */
export function withStrategyFlags<T>(y: Argv<T>, except: readonly string[] = []): Argv<T> {
  for (const f of STRATEGY_FLAGS) {
    if (except.includes(f.flag)) continue;
    y = y.option(f.flag, { type: f.kind === 'bool' ? 'boolean' : 'string', describe: f.describe, group: GROUP }) as Argv<T>;
  }
  return y;
}

function convert(f: Flag, raw: unknown): unknown {
  const last = Array.isArray(raw) && f.kind !== 'list' ? raw[raw.length - 1] : raw;
  switch (f.kind) {
    case 'bool': return last;
    case 'list': return ([] as unknown[]).concat(raw).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);
    // A bare `--proxy-sidecar` parses as '': the default port.
    case 'boolOrPort': return last === '' || last === 'true' ? true : last === 'false' ? false : typeof last === 'string' && /^[0-9]{1,9}$/.test(last) ? Number(last) : last;
    case 'int': case 'seconds': case 'portOrName':
      return typeof last === 'string' && /^[0-9]{1,9}$/.test(last) ? Number(last) : last;
    default: return last;
  }
}

/** The option object for `strategy` from parsed argv; `extra` (e.g. onConflict) is merged in. */
export function strategyOptions(argv: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, any> {
  const out: Record<string, any> = {};
  for (const f of STRATEGY_FLAGS) {
    const raw = argv[f.flag];
    if (raw === undefined) continue;
    let at = out;
    for (const k of f.path.slice(0, -1)) at = at[k] ??= {};
    at[f.path[f.path.length - 1]] = convert(f, raw);
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out;
}

/** Flags that `strategy` takes: those whose option key is among the core's optionKeys for it. */
export function flagsFor(strategyId: string): string[] {
  const { getStrategy } = require('../../strategies') as typeof import('../../strategies');
  const { optionKeys } = require('../../strategies/options') as typeof import('../../strategies/options');
  const keys = new Set(optionKeys(getStrategy(strategyId).optionGroups));
  return STRATEGY_FLAGS.filter((f) => keys.has(f.path[0])).map((f) => f.flag);
}

/** A flag the strategy does not take is a usage error naming the flag (not the option key). */
export function rejectForeignFlags(strategyId: string, argv: Record<string, unknown>): void {
  const allowed = new Set(flagsFor(strategyId));
  const foreign = STRATEGY_FLAGS.filter((f) => argv[f.flag] !== undefined && !allowed.has(f.flag)).map((f) => `--${f.flag}`);
  if (foreign.length) {
    throw new UsageError(`${foreign.join(', ')} ${foreign.length > 1 ? 'do' : 'does'} not apply to strategy ${strategyId}; it takes: ${[...allowed].map((f) => `--${f}`).join(' ')}`);
  }
}

/** Validates the strategy id (any id the core registers) with a usage error that lists them. */
export function strategyId(id: unknown): string {
  const { getStrategy } = require('../../strategies') as typeof import('../../strategies');
  try {
    return getStrategy(String(id)).id;
  } catch (e: any) {
    throw new UsageError(`${e.message} (see identity-health list)`);
  }
}

/** Core messages speak of option keys (`option port`, `onConflict 'skip'`); on the command line they are flags. */
export function flagWording(message: string): string {
  const flagOf = (key: string) => STRATEGY_FLAGS.find((f) => f.path.join('.') === key)?.flag;
  return message
    .replace(/onConflict '?(error|skip|sidecar)\b'?/g, '--on-conflict $1')
    .replace(/\binvalid onConflict\b/g, 'invalid --on-conflict')
    .replace(/\binvalid ([\w.]+)(\[\d+\])? /g, (m, k: string) => (flagOf(k) ? `invalid --${flagOf(k)} ` : m))
    .replace(/\boption (\w+)/g, (m, k: string) => (flagOf(k) ? `--${flagOf(k)}` : m))
    .replace(/\b([a-z]+[A-Z]\w*)\b/g, (m, k: string) => (flagOf(k) ? `--${flagOf(k)}` : m));
}

/** The flag (also the krm ConfigMap key) of a core option name such as `readiness.timeoutSeconds` or `containers[0]`. */
export function flagOf(option: unknown): string | undefined {
  if (option === 'onConflict') return 'on-conflict';
  return STRATEGY_FLAGS.find((f) => option === f.path.join('.') || option === f.path[0] || String(option).startsWith(`${f.path.join('.')}[`))?.flag;
}

/** The validated plan for `strategyId` from the flags; an OptionError keeps the core's message, worded with the flag. */
export function planFromFlags(id: string, argv: Record<string, unknown>, extra: Record<string, unknown> = {}): { plan: import('../pod-template/apply').Plan; options: Record<string, any> } {
  rejectForeignFlags(id, argv);
  const options = strategyOptions(argv, extra);
  const { planFor } = require('../transform') as typeof import('../transform');
  try {
    return { plan: planFor(id, options), options };
  } catch (e: any) {
    // The core names the option (`invalid nmiPort "x"`); on the command line it is the flag.
    if (e?.name === 'OptionError') e.message = flagWording(e.message);
    throw e;
  }
}
