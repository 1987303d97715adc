/** Shared fixtures for the library tests: workloads of every flavour, synthesis, schema validation, script extraction. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ApiObject, Chart, Include, Testing } from 'cdk8s';
import * as plus27 from 'cdk8s-plus-27';
import * as plus33 from 'cdk8s-plus-33';
import type { Construct } from 'constructs';
import type { Plan } from '../../src/pod-template/apply';
import { projectedScript } from '../../src/pod-template/pieces';
import { podTemplateOf } from '../../src/pod-template/workload';
import type { Container, KubeObject } from '../../src/pod-template/types';

export const CORPUS = path.resolve(__dirname, '../../../shared/corpus');
export const STRATEGY_OPTIONS_FOR_TESTS = { clientId: '11111111-1111-1111-1111-111111111111' };

export function newChart(): Chart {
  return new Chart(Testing.app(), 'test', { disableResourceNameHashes: true });
}

/** A Deployment in each flavour the mixins must support; returns the construct to apply a mixin to. */
export const FLAVOURS: Record<string, (chart: Chart, id?: string) => Construct> = {
  'cdk8s-plus-27': (chart, id = 'web') => new plus27.Deployment(chart, id, {
    containers: [{ name: 'app', image: 'curlimages/curl:8.11.1', portNumber: 8080 }],
  }),
  'cdk8s-plus-33': (chart, id = 'web') => new plus33.Deployment(chart, id, {
    containers: [{ name: 'app', image: 'curlimages/curl:8.11.1', portNumber: 8080 }],
  }),
  'L1 KubeDeployment': (chart, id = 'web') => new plus27.k8s.KubeDeployment(chart, id, {
    metadata: { name: id },
    spec: {
      selector: { matchLabels: { app: id } },
      template: {
        metadata: { labels: { app: id } },
        spec: { containers: [{ name: 'app', image: 'curlimages/curl:8.11.1', ports: [{ containerPort: 8080 }] }] },
      },
    },
  }),
  'Include': (chart, id = 'web') => new Include(chart, id, { url: path.join(__dirname, 'fixtures/deployment.yaml') }),
};

const pod = (name: string) => ({ containers: [{ name, image: 'curlimages/curl:8.11.1', ports: [{ containerPort: 8080 }] }] });
const tpl = (name: string) => ({ metadata: { labels: { app: name } }, spec: pod(name) });

/** One L1 object of each workload kind, plus a Service and a ConfigMap that must stay untouched. */
export function everyKind(chart: Chart): void {
  const sel = (n: string) => ({ matchLabels: { app: n } });
  new plus27.k8s.KubeDeployment(chart, 'deploy', { metadata: { name: 'deploy' }, spec: { selector: sel('deploy'), template: tpl('deploy') } });
  new plus27.k8s.KubeStatefulSet(chart, 'sts', { metadata: { name: 'sts' }, spec: { serviceName: 'sts', selector: sel('sts'), template: tpl('sts') } });
  new plus27.k8s.KubeDaemonSet(chart, 'ds', { metadata: { name: 'ds' }, spec: { selector: sel('ds'), template: tpl('ds') } });
  new plus27.k8s.KubeReplicaSet(chart, 'rs', { metadata: { name: 'rs' }, spec: { selector: sel('rs'), template: tpl('rs') } });
  new plus27.k8s.KubeJob(chart, 'job', { metadata: { name: 'job' }, spec: { template: { spec: { ...pod('job'), restartPolicy: 'Never' } } } });
  new plus27.k8s.KubeCronJob(chart, 'cron', {
    metadata: { name: 'cron' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { ...pod('cron'), restartPolicy: 'OnFailure' } } } } },
  });
  new plus27.k8s.KubePod(chart, 'pod', { metadata: { name: 'pod' }, spec: pod('pod') });
  new plus27.k8s.KubeService(chart, 'svc', { metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }], selector: { app: 'deploy' } } });
  new plus27.k8s.KubeConfigMap(chart, 'cm', { metadata: { name: 'cm' }, data: { a: 'b' } });
}

export function synth(chart: Chart): KubeObject[] {
  return Testing.synth(chart) as KubeObject[];
}

export function workloads(docs: KubeObject[]): KubeObject[] {
  return docs.filter((d) => podTemplateOf(structuredClone(d)));
}

export function allContainers(doc: KubeObject): Container[] {
  const t = podTemplateOf(structuredClone(doc))!;
  return [...(t.spec.initContainers ?? []), ...t.spec.containers];
}

/**
 * Every script the strategies put in a manifest: init/sidecar commands, exec probes, and the
 * script file a probe runs (projected from a pod annotation by a downwardAPI volume).
 */
export function scriptsOf(doc: KubeObject): Array<{ where: string; script: string }> {
  const out: Array<{ where: string; script: string }> = [];
  const t = podTemplateOf(structuredClone(doc))!;
  for (const c of allContainers(doc)) {
    if (c.command?.[0] === '/bin/sh' && c.command[1] === '-c') out.push({ where: `${c.name} command`, script: c.command[2] });
    for (const k of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
      const cmd = c[k]?.exec?.command;
      if (cmd?.[0] !== '/bin/sh') continue;
      out.push({ where: `${c.name} ${k}`, script: cmd[2] });
      const file = projectedScript(cmd[3], c.volumeMounts, t.spec.volumes, t.metadata.annotations);
      if (file) out.push({ where: `${c.name} ${k} file ${cmd[3]}`, script: 'script' in file ? file.script : `unresolved: ${file.problem}` });
    }
  }
  return out;
}

/** The one probe script of a probe strategy's plan (the annotation its probes' file is projected from). */
export function probeScriptOf(plan: Plan): string {
  const scripts = Object.values(plan.podAnnotations);
  if (scripts.length !== 1) throw new Error(`${plan.strategy}: expected one probe script, got ${scripts.length}`);
  return scripts[0];
}

/** Validate against the Kubernetes JSON schemas (kubernetes-models, independent of cdk8s). */
export function validateK8s(doc: KubeObject): void {
  const models = require(`kubernetes-models/${doc.apiVersion}`);
  const Model = models[doc.kind!];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

export function shellcheck(script: string): string {
  try {
    execFileSync('shellcheck', ['-s', 'sh', '-'], { input: script, stdio: 'pipe' });
    return '';
  } catch (e: any) {
    if (e.code === 'ENOENT') throw new Error('shellcheck is missing: run "npm test" (scripts/test.sh installs it) or apt-get install shellcheck');
    return String(e.stdout);
  }
}

export function isApiObject(x: unknown): x is ApiObject {
  return ApiObject.isApiObject(x);
}
