/**
 * Composition, idempotence and conflicts, on every flavour of workload (cdk8s-plus-27,
 * cdk8s-plus-33, L1 Kube*, Include) and through chart.with(...).
 */
import { JsonPatch } from 'cdk8s';
import * as plus27 from 'cdk8s-plus-27';
import { describe, expect, it } from 'vitest';
import { STRATEGIES, STRATEGY_IDS, StrategyId } from '../../src';
import { applyMixin, IdentityHealthMixin } from '../../src/cdk8s/mixin';
import * as mixins from '../../src/cdk8s/strategies';
import type { KubeObject } from '../../src/pod-template/types';
import { allContainers, everyKind, FLAVOURS, newChart, synth, validateK8s, workloads } from './helpers';

const CLASSES: Record<StrategyId, new (o?: any) => IdentityHealthMixin> = {
  'nmi-init': mixins.NmiInitCheck, 'nmi-probes': mixins.NmiProbes, 'nmi-app-check': mixins.NmiAppHealthCheck,
  'identity-init': mixins.IdentityInitCheck, 'identity-probes': mixins.IdentityProbes, 'identity-app-check': mixins.IdentityAppHealthCheck,
};
const make = (id: StrategyId, o: object = {}) => new CLASSES[id](o);

function synthFlavour(flavour: string, ...ms: IdentityHealthMixin[]): KubeObject[] {
  const chart = newChart();
  const target = FLAVOURS[flavour](chart);
  for (const m of ms) applyMixin(target, m);
  return synth(chart);
}

const pairs = STRATEGY_IDS.flatMap((a, i) => STRATEGY_IDS.slice(i + 1).map((b) => [a, b] as const));
// Two strategies that both own the app container's readiness/liveness probes cannot share it.
const clash = (a: StrategyId, b: StrategyId) => STRATEGIES[a].placement !== 'init' && STRATEGIES[b].placement !== 'init';

describe.each(Object.keys(FLAVOURS))('%s', (flavour) => {
  it('each strategy twice changes nothing the second time (same or another instance)', () => {
    for (const id of STRATEGY_IDS) {
      const once = synthFlavour(flavour, make(id));
      const m = make(id);
      expect(synthFlavour(flavour, m, m)).toEqual(once);
      expect(synthFlavour(flavour, make(id), make(id))).toEqual(once);
    }
  });

  it.each(pairs.filter(([a, b]) => !clash(a, b)))('%s + %s give the union, in either order', (a, b) => {
    const ab = synthFlavour(flavour, make(a), make(b));
    const ba = synthFlavour(flavour, make(b), make(a));
    expect(ab).toEqual(ba);
    const [w] = workloads(ab);
    const onlyA = workloads(synthFlavour(flavour, make(a)))[0];
    const onlyB = workloads(synthFlavour(flavour, make(b)))[0];
    const names = (d: KubeObject) => allContainers(d).map((c) => c.name);
    expect(names(w)).toEqual(expect.arrayContaining([...names(onlyA), ...names(onlyB)]));
    const app = (d: KubeObject) => allContainers(d).find((c) => c.name === 'app')!;
    for (const k of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
      expect(app(w)[k]).toEqual(app(onlyA)[k] ?? app(onlyB)[k]);
    }
    expect((w.spec as any).template.metadata.annotations['identity-health.io/strategies']).toBe([a, b].sort().join(','));
    for (const d of ab) validateK8s(d);
  });

  it.each(pairs.filter(([a, b]) => clash(a, b)))('%s + %s on the same container is a clear conflict', (a, b) => {
    expect(() => synthFlavour(flavour, make(a), make(b))).toThrow(/container "app" already has a readinessProbe.*onConflict 'skip'/);
  });
});

describe('conflicts with what the user set', () => {
  function withProbe(): { chart: ReturnType<typeof newChart>; obj: plus27.k8s.KubeDeployment } {
    const chart = newChart();
    const obj = new plus27.k8s.KubeDeployment(chart, 'web', {
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{
              name: 'app', image: 'nginx', ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/health', port: plus27.k8s.IntOrString.fromNumber(8080) } },
            }],
          },
        },
      },
    });
    return { chart, obj };
  }

  it('error names the construct, workload, container, probe and the options that resolve it', () => {
    const { chart, obj } = withProbe();
    applyMixin(obj, make('nmi-probes'));
    expect(() => synth(chart)).toThrow(
      /identity-health nmi-probes at test\/web: Deployment web: container "app" already has a readinessProbe\. Resolve with one of: .*containers.*onConflict 'skip'.*onConflict 'sidecar'/);
  });

  it("'skip' leaves the workload as it was and reports it", () => {
    const { chart, obj } = withProbe();
    const before = synth(chart);
    const m = make('identity-probes', { onConflict: 'skip' });
    applyMixin(obj, m);
    expect(synth(chart)).toEqual(before);
    expect(m.skipped).toEqual([{ path: 'test/web', reason: expect.stringContaining('container "app" already has a readinessProbe') }]);
  });

  it("'sidecar' moves the check into a hardened sidecar and keeps the app's probes", () => {
    const { chart, obj } = withProbe();
    applyMixin(obj, make('identity-probes', { onConflict: 'sidecar' }));
    const [d] = workloads(synth(chart));
    const [app, sidecar] = allContainers(d);
    expect(app.readinessProbe).toEqual({ httpGet: { path: '/health', port: 8080 } });
    expect(app.livenessProbe).toBeUndefined();
    expect(sidecar.name).toBe('identity-health-check');
    expect(sidecar.readinessProbe?.exec?.command[4]).toBe('readiness');
    expect(sidecar.livenessProbe?.exec?.command[4]).toBe('liveness');
    expect(sidecar.env).toContainEqual({ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
    expect(sidecar.volumeMounts).toContainEqual({ name: 'identity-health-state', mountPath: '/var/run/identity-health' });
    expect(sidecar.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    // and again: no second sidecar
    applyMixin(obj, make('identity-probes', { onConflict: 'sidecar' }));
    expect(allContainers(workloads(synth(chart))[0]).length).toBe(2);
    validateK8s(d);
  });

  it("'sidecar' is refused for app-check strategies and Jobs, with the reason", () => {
    const { chart, obj } = withProbe();
    applyMixin(obj, make('nmi-app-check', { onConflict: 'sidecar' }));
    expect(() => synth(chart)).toThrow(/checks inside the app's own health endpoint, so it cannot move into a sidecar/);
    const chart2 = newChart();
    new plus27.k8s.KubeJob(chart2, 'job', {
      metadata: { name: 'job' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'x', livenessProbe: { exec: { command: ['true'] } } }] } } },
    });
    applyMixin(chart2, make('nmi-probes', { onConflict: 'sidecar' }));
    expect(() => synth(chart2)).toThrow(/sidecar container would keep the Job from completing/);
  });

  it('a user env HOST_IP with another value, or an init container of the same name, is a conflict', () => {
    const chart = newChart();
    const obj = new plus27.k8s.KubePod(chart, 'p', {
      metadata: { name: 'p' },
      spec: {
        initContainers: [{ name: 'identity-health-nmi-init', image: 'mine' }],
        containers: [{ name: 'app', image: 'x', env: [{ name: 'HOST_IP', value: '1.2.3.4' }] }],
      },
    });
    applyMixin(obj, make('nmi-init'));
    expect(() => synth(chart)).toThrow(/init container "identity-health-nmi-init" exists with other content/);
    const chart2 = newChart();
    const obj2 = new plus27.k8s.KubePod(chart2, 'p', { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'x', env: [{ name: 'HOST_IP', value: '1.2.3.4' }] }] } });
    applyMixin(obj2, make('nmi-probes'));
    expect(() => synth(chart2)).toThrow(/container "app" sets env HOST_IP differently/);
  });

  it('an unknown container name is an error listing the containers', () => {
    const chart = newChart();
    applyMixin(FLAVOURS['L1 KubeDeployment'](chart), make('nmi-probes', { containers: ['nope'] }));
    expect(() => synth(chart)).toThrow(/no container named "nope" \(containers: app\)/);
  });
});

describe('chart.with(...)', () => {
  it('reaches every workload kind exactly once and leaves other objects untouched', () => {
    const plain = newChart();
    everyKind(plain);
    const before = synth(plain);
    const chart = newChart();
    everyKind(chart);
    chart.with(make('nmi-init'), make('identity-probes'));
    const after = synth(chart);
    expect(after.length).toBe(before.length);
    for (let i = 0; i < after.length; i++) {
      const kind = after[i].kind!;
      if (['Service', 'ConfigMap'].includes(kind)) { expect(after[i]).toEqual(before[i]); continue; }
      const inits = allContainers(after[i]).filter((c) => c.name === 'identity-health-nmi-init');
      expect(inits.length, kind).toBe(1);
      const app = allContainers(after[i]).find((c) => !c.name.startsWith('identity-health'))!;
      expect(app.readinessProbe?.exec, kind).toBeDefined();
      validateK8s(after[i]);
    }
  });

  it('treats a cdk8s-plus workload and its inner ApiObject as one workload', () => {
    for (const flavour of ['cdk8s-plus-27', 'cdk8s-plus-33']) {
      const chart = newChart();
      FLAVOURS[flavour](chart);
      chart.with(make('nmi-init'));
      const [d] = workloads(synth(chart));
      expect((d.spec as any).template.spec.initContainers.length).toBe(1);
    }
  });

  it('composes with edits made after the mixin was applied', () => {
    const chart = newChart();
    const d = new plus27.Deployment(chart, 'web', { containers: [{ name: 'app', image: 'x', portNumber: 8080 }] });
    chart.with(make('nmi-probes'));
    d.containers[0].env.addVariable('LATE', plus27.EnvValue.fromValue('1'));
    const l1 = new plus27.k8s.KubeDeployment(chart, 'l1', {
      metadata: { name: 'l1' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'app', image: 'x' }] } } },
    });
    applyMixin(l1, make('nmi-init'));
    l1.addJsonPatch(JsonPatch.add('/spec/replicas', 5));
    const [web, late] = workloads(synth(chart));
    const app = allContainers(web)[0];
    expect(app.env?.map((e) => e.name)).toEqual(expect.arrayContaining(['LATE', 'HOST_IP']));
    expect(app.readinessProbe?.exec).toBeDefined();
    expect((late.spec as any).replicas).toBe(5);
    expect((late.spec as any).template.spec.initContainers[0].name).toBe('identity-health-nmi-init');
  });
});

describe('app check on a container without ports', () => {
  it("is skipped under 'skip' when the container has probes of its own, and an error naming the option otherwise", () => {
    const build = (probe: boolean) => {
      const chart = newChart();
      new plus27.k8s.KubeDeployment(chart, 'worker', {
        metadata: { name: 'worker' },
        spec: {
          selector: { matchLabels: { a: 'b' } },
          template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'w', image: 'x', ...(probe ? { livenessProbe: { exec: { command: ['true'] } } } : {}) }] } },
        },
      });
      return chart;
    };
    const skipped = build(true);
    const before = synth(skipped);
    const m = make('identity-app-check', { onConflict: 'skip' });
    skipped.with(m);
    expect(synth(skipped)).toEqual(before);
    expect(m.skipped[0].reason).toMatch(/container "w" already has a livenessProbe/);
    const plain = build(false);
    plain.with(make('identity-app-check', { onConflict: 'skip' }));
    expect(() => synth(plain)).toThrow(/container "w" declares no port: set option port/);
  });
});
