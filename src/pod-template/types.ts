/** The parts of Kubernetes JSON the transform reads and writes (plain objects, no cdk8s). */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface EnvVar { name: string; value?: string; valueFrom?: Record<string, unknown> }
export interface VolumeMount { name: string; mountPath: string; readOnly?: boolean; [k: string]: unknown }
export interface Volume { name: string; [k: string]: unknown }
export interface Probe { exec?: { command: string[] }; httpGet?: Record<string, unknown>; tcpSocket?: unknown; grpc?: unknown; [k: string]: unknown }

export const PROBE_KINDS = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const;
export type ProbeKind = typeof PROBE_KINDS[number];

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  ports?: Array<{ containerPort: number; name?: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  [k: string]: unknown;
}

export interface ObjectMeta { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown }

/** A Kubernetes object as JSON. */
export interface KubeObject { apiVersion?: string; kind?: string; metadata?: ObjectMeta; spec?: any; [k: string]: unknown }
