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
    successThreshold: t.successThreshold,
    timeoutSeconds: t.timeoutSeconds,
  };
  if (t.initialDelaySeconds > 0) out.initialDelaySeconds = t.initialDelaySeconds;
  return out;
}

/** An exec probe running `script` with the probe kind as $1. */
export function execProbe(script: string, mode: 'readiness' | 'liveness' | 'startup', t: ProbeTiming): Probe {
  return { exec: { command: ['/bin/sh', '-c', script, PREFIX, mode] }, ...timing(t) };
}

export function httpGetProbe(path: string, port: number | string, scheme: 'HTTP' | 'HTTPS', t: ProbeTiming): Probe {
  return { httpGet: { path, port, scheme }, ...timing(t) };
}
