/** Building blocks the strategies compose: containers, env, volumes and probes as plain JSON. */
import { STATE_DIR } from '../checks/scripts';
import type { Container, EnvVar, Probe, Volume, VolumeMount } from './types';

/** Prefix of every container and volume the strategies add. */
export const PREFIX = 'identity-health';
/** Pod-template annotation listing the strategies applied (read by the audit). */
export const STRATEGIES_ANNOTATION = 'identity-health.io/strategies';
export const SIDECAR_NAME = `${PREFIX}-check`;
export const STATE_VOLUME = `${PREFIX}-state`;

export const HOST_IP_ENV: EnvVar = { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } };

export interface ResourceSettings { readonly cpuRequest: string; readonly memoryRequest: string; readonly cpuLimit: string; readonly memoryLimit: string }

/** Pod Security Standards "restricted", plus a read-only root filesystem. */
export function hardenedSecurityContext(): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsGroup: 65532,
    runAsNonRoot: true,
    runAsUser: 65532,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function hardenedContainer(o: {
  name: string; image: string; script: string; args?: string[]; env?: EnvVar[]; volumeMounts?: VolumeMount[]; resources: ResourceSettings;
}): Container {
  const c: Container = {
    name: o.name,
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-c', o.script, ...(o.args ?? [])],
    env: o.env ?? [],
    resources: {
      limits: { cpu: o.resources.cpuLimit, memory: o.resources.memoryLimit },
      requests: { cpu: o.resources.cpuRequest, memory: o.resources.memoryRequest },
    },
    securityContext: hardenedSecurityContext(),
  };
  if (o.volumeMounts?.length) c.volumeMounts = o.volumeMounts;
  return c;
}

export function emptyDirVolume(name: string, sizeLimit = '1Mi'): Volume {
  return { name, emptyDir: { medium: 'Memory', sizeLimit } };
}

export const STATE_MOUNT: VolumeMount = { name: STATE_VOLUME, mountPath: STATE_DIR };

export interface ProbeTiming {
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly initialDelaySeconds: number;
}

function timing(t: ProbeTiming): Record<string, number> {
  const out: Record<string, number> = {
    failureThreshold: t.failureThreshold,
    periodSeconds: t.periodSeconds,
    timeoutSeconds: t.timeoutSeconds,
  };
  // Written only where it is not the API default, 1 (and 1 is all liveness and startup allow).
  if (t.successThreshold !== 1) out.successThreshold = t.successThreshold;
  if (t.initialDelaySeconds > 0) out.initialDelaySeconds = t.initialDelaySeconds;
  return out;
}

export type ProbeMode = 'readiness' | 'liveness' | 'startup';

/**
 * The probe script, once per pod: a pod-template annotation that a downwardAPI volume projects
 * as a file, mounted read-only where the probes run. Kubelet writes a downwardAPI volume's files
 * before the containers start and replaces them atomically when the annotation changes
 * (https://kubernetes.io/docs/concepts/workloads/pods/downward-api/,
 * https://kubernetes.io/docs/tasks/inject-data-application/downward-api-volume-expose-pod-information/).
 * Named per strategy, so two probe strategies in one pod (one in the app, one in the sidecar) never clash.
 */
export interface ProbeScriptFile {
  readonly annotation: string;
  readonly volume: Volume;
  readonly mount: VolumeMount;
  /** Absolute path of the file in the container. */
  readonly path: string;
}

export function probeScriptFile(strategy: string): ProbeScriptFile {
  const annotation = `identity-health.io/${strategy}-script`;
  const name = `${PREFIX}-${strategy}`;
  const dir = `/etc/identity-health/${strategy}`;
  return {
    annotation,
    volume: { name, downwardAPI: { items: [{ path: 'probe.sh', fieldRef: { fieldPath: `metadata.annotations['${annotation}']` } }] } },
    mount: { name, mountPath: dir, readOnly: true },
    path: `${dir}/probe.sh`,
  };
}

/**
 * Runs the file $0 with the mode as $1. Kubelet projects a missing annotation as an empty file
 * (pkg/fieldpath/fieldpath.go: ExtractFieldPathAsString returns "" for an absent key), and
 * `sh <empty file>` exits 0: so an empty or missing file fails the probe, saying why.
 */
export const PROBE_FILE_RUNNER = '[ -s "$0" ] || { echo "identity-health: $0 is missing or empty (pod annotation removed?)"; exit 1; }; exec /bin/sh "$0" "$@"';

/** `arg` is the runner of a probe of ours, in this release's words or an earlier one's (all start with the empty-file guard). */
export function isProbeFileRunner(arg: unknown): boolean {
  return typeof arg === 'string' && arg.startsWith('[ -s "$0" ]');
}

/** An exec probe running the script at `file` with the probe kind as $1. */
export function execProbe(file: string, mode: ProbeMode, t: ProbeTiming): Probe {
  return { exec: { command: ['/bin/sh', '-c', PROBE_FILE_RUNNER, file, mode] }, ...timing(t) };
}

/**
 * The script at `file` where a downwardAPI volume mounted in the container projects it from a
 * pod annotation, or why it is not there (the probe would fail on every run, or with the
 * annotation gone pass on an empty file). Undefined when no mount of the container covers `file`.
 */
export function projectedScript(file: unknown, mounts: readonly VolumeMount[] | undefined, volumes: readonly Volume[] | undefined,
  annotations: Readonly<Record<string, unknown>> | undefined): { script: string } | { problem: string } | undefined {
  if (typeof file !== 'string' || !file.startsWith('/')) return undefined;
  for (const m of mounts ?? []) {
    if (typeof m.mountPath !== 'string' || m.subPath !== undefined) continue;
    const dir = m.mountPath.endsWith('/') ? m.mountPath : `${m.mountPath}/`;
    if (!file.startsWith(dir)) continue;
    const v = volumes?.find((x) => x.name === m.name);
    if (!v) return { problem: `${file}: volume ${m.name} (mounted at ${m.mountPath}) is not in the pod` };
    if (!v.downwardAPI) return undefined;
    const items = (v.downwardAPI as { items?: Array<{ path?: unknown; fieldRef?: { fieldPath?: unknown } }> }).items;
    const item = Array.isArray(items) ? items.find((i) => i?.path === file.slice(dir.length)) : undefined;
    if (!item) return { problem: `${file}: volume ${m.name} projects no such file` };
    const key = /^metadata\.annotations\['(.+)'\]$/.exec(String(item.fieldRef?.fieldPath ?? ''))?.[1];
    if (key === undefined) return { problem: `${file}: volume ${m.name} projects it from ${String(item.fieldRef?.fieldPath)}, not a pod annotation` };
    const script = annotations?.[key];
    if (typeof script !== 'string' || !script) return { problem: `${file}: the pod has no annotation ${key}, so kubelet projects an empty file` };
    return { script };
  }
  return undefined;
}

export function httpGetProbe(path: string, port: number | string, scheme: 'HTTP' | 'HTTPS', t: ProbeTiming): Probe {
  return { httpGet: { path, port, scheme }, ...timing(t) };
}
