/**
 * Options shared by the strategies, their defaults, and the plan builders every strategy
 * composes (init container, exec probes, app health endpoint). One place, so a strategy file
 * only says which pieces it uses.
 */
import { buildTokenUrl, CheckSettings, HttpClient, initScript, InitClient, probeScript, SIDECAR_IDLE_SCRIPT, STATE_DIR, TokenSettings, WorkloadIdentitySettings } from '../src/checks/scripts';
import * as v from '../src/checks/validate';
import { DurationLike } from '../src/checks/validate';
import { ConflictPolicy, CONFLICT_POLICIES, InputError, Plan } from '../src/pod-template/apply';
import {
  emptyDirVolume, execProbe, hardenedContainer, HOST_IP_ENV, httpGetProbe, PREFIX, probeScriptFile, ProbeTiming, ResourceSettings,
  SIDECAR_NAME, STATE_MOUNT, STATE_VOLUME,
} from '../src/pod-template/pieces';
import type { Container, EnvVar, Probe, ProbeKind } from '../src/pod-template/types';
import { RUNTIME_ENV } from '../src/runtime/env';
import { didYouMean } from '../src/suggest';

export type { DurationLike, ConflictPolicy, HttpClient, InitClient };

/** Options of the Azure AD Workload Identity strategies (7-9). */
export interface WorkloadIdentityOptions {
  /**
   * Client id of the identity: AZURE_CLIENT_ID must equal it, and ServiceAccounts the mixin is
   * applied to get the annotation azure.workload.identity/client-id. @default not checked
   */
  readonly clientId?: string;
  /**
   * Exchange the federated token for an AAD token at $AZURE_AUTHORITY_HOST$AZURE_TENANT_ID
   * (catches a missing federated identity credential). In probes this makes readiness and
   * liveness depend on AAD being reachable. @default true in an init container, false in probes
   */
  readonly exchange?: boolean;
  /** Scope of the exchanged token. @default 'https://management.azure.com/.default' */
  readonly scope?: string;
  /** Upper bound for the exchange request. @default 10 seconds (init), 4 seconds (probes) */
  readonly requestTimeout?: DurationLike;
  /**
   * Also require the migration proxy sidecar (annotation azure.workload.identity/inject-proxy-sidecar)
   * to listen on this port; true means 8000. Its /readyz only proves the listener is up, not that
   * a token can be had. Probes and app checks only: in an init container this is refused, since
   * the proxy starts before init containers only as a native sidecar (webhook >= 1.5 on
   * Kubernetes >= 1.32); elsewhere it is a regular container that starts after them. @default false
   */
  readonly proxySidecar?: boolean | number;
  /** Set the pod label azure.workload.identity/use: "true" that makes the webhook mutate the pod. @default true */
  readonly useLabel?: boolean;
}

/** Options every strategy takes. */
export interface CommonOptions {
  /**
   * NMI health port (NMI runs with hostNetwork; the check calls http://$HOST_IP:<port>/healthz).
   * The aad-pod-identity chart sets 8085 since v1.6.2; NMI's own default (`--http-probe-port`),
   * and the v1.5-v1.6.1 chart's, is 8080. NMI before v1.5 has no health endpoint: there use
   * identity-init / identity-probes with `checkNmi: false`. @default 8085
   */
  readonly nmiPort?: number;
  /** Upper bound for one NMI health request (NMI is on the same node). @default 2 seconds */
  readonly nmiTimeout?: DurationLike;
  /** Containers that get the probes and env, by name. @default the first app container */
  readonly containers?: readonly string[];
  /** Sets the pod label `aadpodidbinding` to this value (the AzureIdentityBinding selector). @default not set */
  readonly podIdentityBinding?: string;
  /** What to do when a container already has a probe, env or init container the strategy needs. @default 'error' */
  readonly onConflict?: ConflictPolicy;
}

/** Which token the full identity check asks for. */
export interface TokenOptions {
  /** The resource (audience) of the token request. @default 'https://management.azure.com/' */
  readonly resource?: string;
  /** Client id of the user-assigned identity to request (`client_id`); the token's `appid`/`azp` must equal it. @default not set */
  readonly clientId?: string;
  /**
   * Refused with pod identity: NMI never reads `object_id` (it selects by `client_id` or
   * `msi_res_id` only), so another identity bound to the pod would answer. Use clientId or miResId.
   * @default not set
   */
  readonly objectId?: string;
  /** ARM resource id of the identity to request (sent as `msi_res_id`, which every NMI and IMDS read). @default not set */
  readonly miResId?: string;
  /** IMDS API version. @default '2018-02-01' */
  readonly apiVersion?: string;
  /**
   * Check that the token's `appid` (v1.0 tokens) or `azp` (v2.0) claim equals clientId, so a
   * token for another identity fails the check: another identity bound to the pod, or IMDS
   * answering without NMI for a request that named none. The JWT is decoded, not verified.
   * @default true when clientId is set
   */
  readonly verifyIdentity?: boolean;
  /** Check NMI's health body before the token request (catches NMI loss at once; needs HOST_IP). @default true */
  readonly checkNmi?: boolean;
  /**
   * Upper bound for one token request. In an init container it must outlast NMI's own retries:
   * in standard mode NMI keeps looking for the pod's assigned identity for up to 80 s, and up to
   * 100 s once an AzureAssignedIdentity is CREATED, before it answers (pkg/nmi/standard.go). In
   * managed mode (the AKS add-on) NMI does not retry: it answers 404 at once and the init loop
   * tries again every `interval`. @default 4 seconds in probes, 110 seconds in an init container
   */
  readonly requestTimeout?: DurationLike;
}

/** Resource requests and limits of an injected container (Kubernetes quantities). */
export interface ResourceOptions {
  /** CPU request. @default '10m' ('50m' for az) */ readonly cpuRequest?: string;
  /** Memory request. @default '16Mi' ('128Mi' for az) */ readonly memoryRequest?: string;
  /** CPU limit. @default '100m' ('500m' for az) */ readonly cpuLimit?: string;
  /** Memory limit. @default '32Mi' ('512Mi' for az) */ readonly memoryLimit?: string;
}

/** Options of the init-container strategies. */
export interface InitOptions {
  /** HTTP client of the check. @default 'curl' */
  readonly client?: HttpClient;
  /** Image of the init container; pin it by digest in production. @default 'curlimages/curl:8.11.1' for curl, 'busybox:1.37.0' for wget */
  readonly image?: string;
  /** Time between tries. @default 2 seconds */
  readonly interval?: DurationLike;
  /** After this, the init container fails loudly (kubelet retries it with back-off). @default 300 seconds */
  readonly deadline?: DurationLike;
  /** Resource requests and limits of the init container. @default see ResourceOptions */
  readonly resources?: ResourceOptions;
}

/** Timing of one probe (as cdk8s-plus `ProbeOptions`). */
export interface ProbeTimingOptions {
  /** How often kubelet runs the probe. @default 4 seconds (readiness, startup), 10 seconds (liveness) */ readonly periodSeconds?: DurationLike;
  /** Must exceed the check's own bound. @default the check's bound + 1 second */ readonly timeoutSeconds?: DurationLike;
  /** Consecutive failures before kubelet acts. @default 2 (readiness), 3 (liveness), 45 (startup: 180 s, the identity-assignment window) */ readonly failureThreshold?: number;
  /** Consecutive successes after a failure before the probe passes again (1 for liveness and startup). @default 1 */ readonly successThreshold?: number;
  /** Prefer the startup probe to a delay. @default 0 */ readonly initialDelaySeconds?: DurationLike;
}

/** Options of the probe strategies. */
export interface ProbesOptions {
  /** HTTP client the app image (or the sidecar image) has. @default 'curl' */
  readonly client?: HttpClient;
  /** Timing of the readiness probe. @default see ProbeTimingOptions */ readonly readiness?: ProbeTimingOptions;
  /** Timing of the liveness probe. @default see ProbeTimingOptions */ readonly liveness?: ProbeTimingOptions;
  /** Timing of the startup probe, added only where the container has no startup probe. @default see ProbeTimingOptions */ readonly startup?: ProbeTimingOptions;
  /** Liveness passes until the first success or for this long, whatever startup probe there is. @default 180 seconds */
  readonly startupGrace?: DurationLike;
  /**
   * Liveness fails on transient token faults (IMDS 410/429/5xx, timeouts) only once they last
   * this long (IMDS answers 410 for up to 70 s while updating); NMI loss is never transient.
   * @default 60 seconds
   */
  readonly transientGrace?: DurationLike;
  /** Image of the sidecar used by onConflict 'sidecar'. @default as InitOptions.image */
  readonly sidecarImage?: string;
  /** Resources of the sidecar. @default see ResourceOptions */
  readonly resources?: ResourceOptions;
}

/** Options of the probe strategies that request tokens. */
export interface TokenCacheOptions {
  /** A token result is reused this long, so readiness and liveness share one request (IMDS load). @default 20 seconds */
  readonly tokenCacheTtl?: DurationLike;
}

/** Options of the app-health strategies (the app serves the check, kubelet calls it). */
export interface AppCheckOptions {
  /** Port of the app's health endpoint. @default the container's first port */
  readonly port?: number | string;
  /** Path of the app's readiness endpoint. @default '/readyz' */ readonly readinessPath?: string;
  /** Path of the app's liveness endpoint (also used by the startup probe). @default '/livez' */ readonly livenessPath?: string;
  /** Scheme of the httpGet probes. @default 'HTTP' */ readonly scheme?: 'HTTP' | 'HTTPS';
  /** Timing of the readiness probe. @default see ProbeTimingOptions */ readonly readiness?: ProbeTimingOptions;
  /** Timing of the liveness probe. @default see ProbeTimingOptions */ readonly liveness?: ProbeTimingOptions;
  /** Timing of the startup probe. @default see ProbeTimingOptions */ readonly startup?: ProbeTimingOptions;
  /** Liveness passes until the first success or for this long. @default 180 seconds */
  readonly startupGrace?: DurationLike;
  /**
   * Liveness fails on transient faults (IMDS 410/429/5xx, timeouts) only once they last this
   * long (IMDS answers 410 for up to 70 s while updating). @default 60 seconds
   */
  readonly transientGrace?: DurationLike;
}

export const DEFAULT_IMAGES: Readonly<Record<InitClient, string>> = {
  curl: 'curlimages/curl:8.11.1',
  wget: 'busybox:1.37.0',
  // `az login --identity --client-id/--resource-id` (current releases refuse --username for a managed identity; checked with 2.91.0).
  az: 'mcr.microsoft.com/azure-cli:2.91.0',
};
export const DEFAULT_RESOURCE = 'https://management.azure.com/';
export const DEFAULT_API_VERSION = '2018-02-01';
const SMALL: ResourceSettings = { cpuRequest: '10m', memoryRequest: '16Mi', cpuLimit: '100m', memoryLimit: '32Mi' };
const AZ: ResourceSettings = { cpuRequest: '50m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '512Mi' };

export const DEFAULT_TIMINGS: Readonly<Record<'readiness' | 'liveness' | 'startup', { periodSeconds: number; failureThreshold: number }>> = {
  readiness: { periodSeconds: 4, failureThreshold: 2 },
  liveness: { periodSeconds: 10, failureThreshold: 3 },
  startup: { periodSeconds: 4, failureThreshold: 45 },
};
export const DEFAULTS = {
  nmiPort: 8085, nmiTimeout: 2, probeRequestTimeout: 4, initRequestTimeout: 110, interval: 2, deadline: 300,
  tokenCacheTtl: 20, startupGrace: 180, appNmiTimeout: 1, transientGrace: 60,
} as const;

// ---- option-key checking: a typo must not silently fall back to a default ----

const KEYS = {
  common: ['containers', 'onConflict'],
  podIdentity: ['nmiPort', 'nmiTimeout', 'podIdentityBinding'],
  token: ['resource', 'clientId', 'objectId', 'miResId', 'apiVersion', 'verifyIdentity', 'checkNmi', 'requestTimeout'],
  init: ['client', 'image', 'interval', 'deadline', 'resources'],
  probes: ['client', 'readiness', 'liveness', 'startup', 'startupGrace', 'transientGrace', 'sidecarImage', 'resources'],
  cache: ['tokenCacheTtl'],
  wi: ['clientId', 'exchange', 'scope', 'requestTimeout', 'proxySidecar', 'useLabel'],
  app: ['port', 'readinessPath', 'livenessPath', 'scheme', 'readiness', 'liveness', 'startup', 'startupGrace', 'transientGrace'],
} as const;
export type OptionGroup = keyof typeof KEYS;

/** The option keys a strategy takes (for the CLI's flags and for error messages). */
export function optionKeys(groups: readonly OptionGroup[]): string[] {
  return [...new Set<string>(groups.flatMap((g) => KEYS[g]))].sort();
}

export function checkKeys(strategy: string, options: object, groups: readonly OptionGroup[]): void {
  const allowed = new Set<string>(optionKeys(groups));
  for (const k of Object.keys(options)) {
    if (!allowed.has(k)) throw new v.OptionError(`option of ${strategy}`, k, `one of ${[...allowed].sort().join(', ')}${didYouMean(k, allowed)}`);
  }
  for (const [k, sub] of [['readiness', 0], ['liveness', 0], ['startup', 0], ['resources', 1]] as const) {
    const val = (options as any)[k];
    if (val === undefined) continue;
    const subKeys = sub ? ['cpuRequest', 'memoryRequest', 'cpuLimit', 'memoryLimit'] : ['periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold', 'initialDelaySeconds'];
    if (typeof val !== 'object' || val === null) throw new v.OptionError(k, val, 'an object');
    for (const s of Object.keys(val)) if (!subKeys.includes(s)) throw new v.OptionError(`option of ${k}`, s, `one of ${subKeys.join(', ')}${didYouMean(s, subKeys)}`);
  }
}

// ---- resolution: options -> validated plain settings ----

interface Common { nmiPort: number; nmiTimeout: number; containers: string[]; podLabels: Record<string, string>; onConflict: ConflictPolicy }

function containerList(x: unknown): string[] {
  if (x === undefined) return [];
  if (typeof x === 'string') return [x];
  if (!Array.isArray(x)) throw new v.OptionError('containers', x, 'a list of container names, e.g. ["app"]');
  return x;
}

function resolveCommon(o: CommonOptions): Common {
  return {
    nmiPort: v.port('nmiPort', o.nmiPort ?? DEFAULTS.nmiPort),
    nmiTimeout: v.seconds('nmiTimeout', o.nmiTimeout ?? DEFAULTS.nmiTimeout, 1, 30),
    // One name given as a string is taken as that name (a string is not split into characters).
    containers: containerList(o.containers).map((c, i) => v.containerName(`containers[${i}]`, c)),
    podLabels: o.podIdentityBinding !== undefined ? { aadpodidbinding: v.labelValue('podIdentityBinding', o.podIdentityBinding) } : {},
    onConflict: v.oneOf('onConflict', o.onConflict ?? 'error', CONFLICT_POLICIES),
  };
}

function resolveResources(o: ResourceOptions | undefined, base: ResourceSettings): ResourceSettings {
  return {
    cpuRequest: v.quantity('resources.cpuRequest', o?.cpuRequest ?? base.cpuRequest),
    memoryRequest: v.quantity('resources.memoryRequest', o?.memoryRequest ?? base.memoryRequest),
    cpuLimit: v.quantity('resources.cpuLimit', o?.cpuLimit ?? base.cpuLimit),
    memoryLimit: v.quantity('resources.memoryLimit', o?.memoryLimit ?? base.memoryLimit),
  };
}

function resolveToken(o: TokenOptions, defaultTimeout: number): TokenSettings & { checkNmi: boolean } {
  const resource = v.resource('resource', o.resource ?? DEFAULT_RESOURCE);
  const apiVersion = v.apiVersion('apiVersion', o.apiVersion ?? DEFAULT_API_VERSION);
  const clientId = o.clientId !== undefined ? v.guid('clientId', o.clientId) : undefined;
  if (o.objectId !== undefined) {
    throw new v.OptionError('objectId', o.objectId, 'clientId or miResId instead: with pod identity NMI never reads object_id (it selects by client_id or msi_res_id only), so another identity bound to the pod would answer the request');
  }
  const miResId = o.miResId !== undefined ? v.miResId('miResId', o.miResId) : undefined;
  if (clientId && miResId) {
    throw new v.OptionError('clientId/miResId', { clientId, miResId }, 'at most one identity selector');
  }
  const verify = v.bool('verifyIdentity', o.verifyIdentity ?? true);
  const expectClaims: TokenSettings['expectClaims'] = verify && clientId ? [{ claim: 'appid', value: clientId }] : [];
  return {
    url: buildTokenUrl({ apiVersion, resource, clientId, miResId }),
    timeout: v.seconds('requestTimeout', o.requestTimeout ?? defaultTimeout, 1, 300),
    expectClaims,
    azIdentity: clientId ? { flag: '--client-id', value: clientId } : miResId ? { flag: '--resource-id', value: miResId } : undefined,
    checkNmi: v.bool('checkNmi', o.checkNmi ?? true),
  };
}

function resolveTiming(name: 'readiness' | 'liveness' | 'startup', o: ProbeTimingOptions | undefined, bound: number): ProbeTiming {
  const d = DEFAULT_TIMINGS[name];
  const timeoutSeconds = v.seconds(`${name}.timeoutSeconds`, o?.timeoutSeconds ?? bound + 1, 1, 600);
  if (timeoutSeconds <= bound) {
    throw new v.OptionError(`${name}.timeoutSeconds`, timeoutSeconds, `more than the check's own bound of ${bound}s (kubelet would kill the check before it can report)`);
  }
  return {
    periodSeconds: v.seconds(`${name}.periodSeconds`, o?.periodSeconds ?? d.periodSeconds, 1, 3600),
    timeoutSeconds,
    failureThreshold: v.count(`${name}.failureThreshold`, o?.failureThreshold ?? d.failureThreshold, 1, 1000),
    successThreshold: v.count(`${name}.successThreshold`, o?.successThreshold ?? 1, 1, name === 'readiness' ? 100 : 1),
    initialDelaySeconds: v.seconds(`${name}.initialDelaySeconds`, o?.initialDelaySeconds ?? 0, 0, 3600),
  };
}

/** The check a strategy runs: NMI only, the full pod identity check, or workload identity. */
export type CheckKind = 'nmi' | 'identity' | 'workload-identity';

type AnyCheckOptions = CommonOptions & TokenOptions & WorkloadIdentityOptions;

function resolveWorkloadIdentity(o: WorkloadIdentityOptions, defaultTimeout: number, defaultExchange: boolean): WorkloadIdentitySettings {
  const proxy = o.proxySidecar === true ? 8000 : o.proxySidecar === false || o.proxySidecar === undefined ? undefined : v.port('proxySidecar', o.proxySidecar);
  // scope and requestTimeout are checked even when the exchange is off: a bad value is an error now, not later.
  const scope = v.resource('scope', o.scope ?? 'https://management.azure.com/.default');
  const timeout = v.seconds('requestTimeout', o.requestTimeout ?? defaultTimeout, 1, 300);
  return {
    expectClientId: o.clientId !== undefined ? v.guid('clientId', o.clientId) : undefined,
    exchange: v.bool('exchange', o.exchange ?? defaultExchange) ? { scope, timeout } : undefined,
    proxyPort: proxy,
  };
}

/** What the check does, validated; `placement` picks the defaults that suit init containers or probes. */
function checkSettings(kind: CheckKind, c: Common, client: InitClient, o: AnyCheckOptions, placement: 'init' | 'probes'): CheckSettings {
  const base = { client, nmiPort: c.nmiPort, nmiTimeout: c.nmiTimeout };
  if (kind === 'nmi') return { ...base, nmi: true };
  if (kind === 'identity') {
    const token = resolveToken(o, placement === 'init' ? DEFAULTS.initRequestTimeout : DEFAULTS.probeRequestTimeout);
    return { ...base, nmi: token.checkNmi, token };
  }
  return { ...base, nmi: false, workloadIdentity: resolveWorkloadIdentity(o, placement === 'init' ? 10 : DEFAULTS.probeRequestTimeout, placement === 'init') };
}

/** Pod labels and ServiceAccount annotations a strategy sets. */
function identityMetadata(kind: CheckKind, c: Common, o: WorkloadIdentityOptions): Pick<Plan, 'podLabels' | 'serviceAccountAnnotations'> {
  if (kind !== 'workload-identity') return { podLabels: c.podLabels, serviceAccountAnnotations: {} };
  return {
    podLabels: { ...c.podLabels, ...(v.bool('useLabel', o.useLabel ?? true) ? { 'azure.workload.identity/use': 'true' } : {}) },
    serviceAccountAnnotations: o.clientId !== undefined ? { 'azure.workload.identity/client-id': v.guid('clientId', o.clientId) } : {},
  };
}

/** Seconds the check itself may take at most (the exec probe's timeoutSeconds must exceed it). */
function checkBound(s: CheckSettings): number {
  const w = s.workloadIdentity;
  return (s.nmi ? s.nmiTimeout : 0) + (s.token?.timeout ?? 0) + (w?.exchange?.timeout ?? 0) + (w?.proxyPort ? 2 : 0) + (w ? 1 : 0);
}

function imageFor(option: string, image: string | undefined, client: InitClient): string {
  return v.image(option, image ?? DEFAULT_IMAGES[client]);
}

function basePlan(strategy: string, kind: CheckKind, c: Common, o: AnyCheckOptions): Omit<Plan, 'initContainers' | 'volumes' | 'target' | 'sidecar'> {
  return { strategy, containers: c.containers, onConflict: c.onConflict, podAnnotations: {}, ...identityMetadata(kind, c, o) };
}

/** What a plan builder needs to know of its strategy. */
export interface StrategyMeta { readonly id: string; readonly checks: CheckKind; readonly optionGroups: readonly OptionGroup[] }

/** Refuse unknown option keys (a typo must not fall back to a default); the strategy's check kind. */
function prepare(strategy: StrategyMeta, o: object): CheckKind {
  checkKeys(strategy.id, o, strategy.optionGroups);
  return strategy.checks;
}

/** Strategies 1 and 4: a hardened init container that waits for the check to pass. */
export function initPlan(strategy: StrategyMeta, o: AnyCheckOptions & Omit<InitOptions, 'client'> & { client?: InitClient }): Plan {
  const kind = prepare(strategy, o);
  const c = resolveCommon(o);
  if (kind === 'workload-identity' && o.proxySidecar !== undefined && o.proxySidecar !== false) {
    throw new v.OptionError('proxySidecar', o.proxySidecar, 'false in an init container: the proxy sidecar starts before init containers only as a native sidecar (workload identity webhook >= 1.5 on Kubernetes >= 1.32); elsewhere it starts after them and this check could never pass. Check the proxy with workload-identity-probes or workload-identity-app-check');
  }
  const client = v.oneOf<InitClient>('client', o.client ?? 'curl', kind === 'identity' ? ['curl', 'wget', 'az'] : ['curl', 'wget']);
  const check = checkSettings(kind, c, client, o, 'init');
  const script = initScript(check, {
    interval: v.seconds('interval', o.interval ?? DEFAULTS.interval, 1, 600),
    deadline: v.seconds('deadline', o.deadline ?? DEFAULTS.deadline, 1, 86400),
  });
  const env: EnvVar[] = check.nmi ? [HOST_IP_ENV] : [];
  const volumes = [];
  const mounts = [];
  if (client === 'az') {
    // az writes its config and token cache; the root filesystem stays read-only.
    env.push({ name: 'AZURE_CONFIG_DIR', value: '/tmp/.azure' });
    volumes.push(emptyDirVolume(`${PREFIX}-tmp`, '64Mi'));
    mounts.push({ name: `${PREFIX}-tmp`, mountPath: '/tmp' });
  }
  const container = hardenedContainer({
    name: `${PREFIX}-${kind}-init`,
    image: imageFor('image', o.image, client),
    script, env, volumeMounts: mounts,
    resources: resolveResources(o.resources, client === 'az' ? AZ : SMALL),
  });
  return { ...basePlan(strategy.id, kind, c, o), initContainers: [container], volumes, target: { env: [], volumeMounts: [], probes: {} } };
}

/**
 * Strategies 2, 5 and 8: exec readiness, liveness and startup probes in the app container (or a
 * sidecar). The script is written once, into a pod annotation projected as a file (probeScriptFile).
 */
export function probesPlan(strategy: StrategyMeta, o: AnyCheckOptions & ProbesOptions & TokenCacheOptions): Plan {
  const kind = prepare(strategy, o);
  const c = resolveCommon(o);
  const client = v.oneOf<HttpClient>('client', o.client ?? 'curl', ['curl', 'wget']);
  const check = checkSettings(kind, c, client, o, 'probes');
  const bound = checkBound(check);
  const script = probeScript(check, {
    tokenCacheTtl: v.seconds('tokenCacheTtl', o.tokenCacheTtl ?? DEFAULTS.tokenCacheTtl, 0, 3600),
    startupGrace: v.seconds('startupGrace', o.startupGrace ?? DEFAULTS.startupGrace, 0, 3600),
    transientGrace: v.seconds('transientGrace', o.transientGrace ?? DEFAULTS.transientGrace, 0, 3600),
  });
  const file = probeScriptFile(strategy.id);
  const probes: Partial<Record<ProbeKind, Probe>> = {
    readinessProbe: execProbe(file.path, 'readiness', resolveTiming('readiness', o.readiness, bound)),
    livenessProbe: execProbe(file.path, 'liveness', resolveTiming('liveness', o.liveness, bound)),
    startupProbe: execProbe(file.path, 'startup', resolveTiming('startup', o.startup, bound)),
  };
  const env = check.nmi ? [HOST_IP_ENV] : [];
  const volumeMounts = [STATE_MOUNT, file.mount];
  const sidecar = hardenedContainer({
    name: SIDECAR_NAME,
    image: imageFor('sidecarImage', o.sidecarImage, client),
    script: SIDECAR_IDLE_SCRIPT, env, volumeMounts,
    resources: resolveResources(o.resources, SMALL),
  });
  return {
    ...basePlan(strategy.id, kind, c, o),
    podAnnotations: { [file.annotation]: script },
    initContainers: [],
    volumes: [emptyDirVolume(STATE_VOLUME), file.volume],
    target: { env, volumeMounts, probes },
    sidecar,
  };
}


function firstPort(c: Container): number {
  const p = c.ports?.[0]?.containerPort;
  if (p === undefined) throw new InputError(`container "${c.name}" declares no port: set option port to the port of its health endpoint`);
  return p;
}

/** Strategies 3 and 6: httpGet probes to the app's own endpoints, and the env its check reads. */
export function appCheckPlan(strategy: StrategyMeta, o: AnyCheckOptions & AppCheckOptions & TokenCacheOptions): Plan {
  const kind = prepare(strategy, o);
  const c = resolveCommon(o);
  const set = (name: string, value: string | number | boolean): EnvVar => ({ name, value: String(value) });
  const env: EnvVar[] = [set(RUNTIME_ENV.check, kind)];
  let bound = 0;
  if (kind !== 'workload-identity') {
    const nmiTimeout = v.seconds('nmiTimeout', o.nmiTimeout ?? DEFAULTS.appNmiTimeout, 1, 30);
    env.unshift(HOST_IP_ENV);
    env.push(set(RUNTIME_ENV.nmiPort, c.nmiPort), set(RUNTIME_ENV.nmiTimeout, nmiTimeout));
    bound += nmiTimeout;
  }
  if (kind === 'identity') {
    const t = resolveToken(o, DEFAULTS.probeRequestTimeout);
    bound += t.timeout;
    env.push(
      set(RUNTIME_ENV.resource, v.resource('resource', o.resource ?? DEFAULT_RESOURCE)),
      set(RUNTIME_ENV.apiVersion, v.apiVersion('apiVersion', o.apiVersion ?? DEFAULT_API_VERSION)),
      ...(o.clientId ? [set(RUNTIME_ENV.clientId, v.guid('clientId', o.clientId))] : []),
      ...(o.miResId ? [set(RUNTIME_ENV.miResId, o.miResId)] : []),
      set(RUNTIME_ENV.verifyIdentity, t.expectClaims.length > 0),
      set(RUNTIME_ENV.checkNmi, t.checkNmi),
      set(RUNTIME_ENV.tokenTimeout, t.timeout),
    );
  }
  if (kind === 'workload-identity') {
    const w = resolveWorkloadIdentity(o, DEFAULTS.probeRequestTimeout, false);
    bound += 1 + (w.exchange?.timeout ?? 0) + (w.proxyPort ? 2 : 0);
    env.push(
      ...(w.expectClientId ? [set(RUNTIME_ENV.clientId, w.expectClientId)] : []),
      set(RUNTIME_ENV.wiExchange, !!w.exchange),
      ...(w.exchange ? [set(RUNTIME_ENV.wiScope, w.exchange.scope), set(RUNTIME_ENV.tokenTimeout, w.exchange.timeout)] : []),
      ...(w.proxyPort ? [set(RUNTIME_ENV.wiProxyPort, w.proxyPort)] : []),
    );
  }
  if (kind !== 'nmi') env.push(set(RUNTIME_ENV.tokenCacheTtl, v.seconds('tokenCacheTtl', o.tokenCacheTtl ?? DEFAULTS.tokenCacheTtl, 0, 3600)));
  env.push(
    set(RUNTIME_ENV.startupGrace, v.seconds('startupGrace', o.startupGrace ?? DEFAULTS.startupGrace, 0, 3600)),
    set(RUNTIME_ENV.transientGrace, v.seconds('transientGrace', o.transientGrace ?? DEFAULTS.transientGrace, 0, 3600)),
  );
  const scheme = v.oneOf('scheme', o.scheme ?? 'HTTP', ['HTTP', 'HTTPS'] as const);
  const ready = v.httpPath('readinessPath', o.readinessPath ?? '/readyz');
  const live = v.httpPath('livenessPath', o.livenessPath ?? '/livez');
  const port = o.port !== undefined ? v.portOrName('port', o.port) : undefined;
  // Timings are checked now, not when a workload comes (they do not depend on its port).
  const timing = { readiness: resolveTiming('readiness', o.readiness, bound), liveness: resolveTiming('liveness', o.liveness, bound), startup: resolveTiming('startup', o.startup, bound) };
  const probes = (p: number | string): Partial<Record<ProbeKind, Probe>> => ({
    readinessProbe: httpGetProbe(ready, p, scheme, timing.readiness),
    livenessProbe: httpGetProbe(live, p, scheme, timing.liveness),
    // The startup probe asks /livez, not /readyz: the runtime's liveness holds during its startup
    // grace and on what a restart cannot fix (NMI 403/404/500, a pod the workload identity webhook
    // skipped), so kubelet never restart-loops a pod only recreating can mend; readiness still gates traffic.
    startupProbe: httpGetProbe(live, p, scheme, timing.startup),
  });
  return {
    ...basePlan(strategy.id, kind, c, o),
    initContainers: [],
    volumes: [],
    // The port defaults to the target container's first port, known only per workload.
    target: { env, volumeMounts: [], probes: port !== undefined ? probes(port) : (ct) => probes(firstPort(ct)) },
  };
}

export { STATE_DIR };
