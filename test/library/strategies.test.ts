/**
 * Each strategy on a cdk8s-plus-27 Deployment: a reviewed file snapshot of the YAML, and
 * assertions about what the YAML means (the behaviour suite runs the scripts themselves).
 */
import { Yaml } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { getStrategy, STRATEGIES, STRATEGY_IDS, StrategyId, withIdentityInitCheck, withIdentityProbes, withNmiAppHealthCheck, withNmiProbes } from '../../src';
import { applyMixin } from '../../src/cdk8s/mixin';
import { mixinFor } from '../../src/cdk8s/by-id';
import { allContainers, FLAVOURS, newChart, probeScriptOf, scriptsOf, synth, validateK8s, workloads } from './helpers';
import type { Container, KubeObject } from '../../src/pod-template/types';

function synthWith(id: StrategyId, options: object = {}, flavour = 'cdk8s-plus-27'): KubeObject[] {
  const chart = newChart();
  const d = FLAVOURS[flavour](chart);
  applyMixin(d, mixinFor(id, { podIdentityBinding: 'orders-identity', ...options }));
  return synth(chart);
}

const hasHostIpEnv = (c: Container) => c.env?.some((e) => e.name === 'HOST_IP' && (e.valueFrom as any)?.fieldRef?.fieldPath === 'status.hostIP');
const injected = (doc: KubeObject) => allContainers(doc).filter((c) => c.name.startsWith('identity-health'));

describe.each(STRATEGY_IDS)('strategy %s', (id) => {
  const docs = synthWith(id);
  const [deployment] = workloads(docs);
  const app = allContainers(deployment).find((c) => c.name === 'app')!;
  const strategy = STRATEGIES[id];

  it('matches the reviewed snapshot', async () => {
    await expect(Yaml.stringify(...docs)).toMatchFileSnapshot(`__snapshots__/${id}.k8s.yaml`);
  });

  it('validates against the Kubernetes schemas', () => {
    for (const d of docs) validateK8s(d);
  });

  it('emits the check where the strategy says', () => {
    const t = (deployment.spec as any).template;
    if (strategy.placement === 'init') {
      expect(t.spec.initContainers.map((c: Container) => c.name)).toEqual([`identity-health-${strategy.checks}-init`]);
      expect(app.readinessProbe).toBeUndefined();
      expect(app.livenessProbe).toBeUndefined();
    } else if (strategy.placement === 'probes') {
      expect(app.readinessProbe?.exec?.command[4]).toBe('readiness');
      expect(app.livenessProbe?.exec?.command[4]).toBe('liveness');
      // cdk8s-plus gave the container a tcpSocket startup probe: it is kept, not replaced.
      expect(app.startupProbe?.tcpSocket).toBeDefined();
    } else {
      expect(app.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 8080, scheme: 'HTTP' });
      expect(app.livenessProbe?.httpGet).toEqual({ path: '/livez', port: 8080, scheme: 'HTTP' });
      expect(app.env?.find((e) => e.name === 'IDENTITY_HEALTH_CHECK')?.value).toBe(strategy.checks);
    }
    expect(t.metadata.labels.aadpodidbinding).toBe('orders-identity');
    expect(t.metadata.annotations['identity-health.io/strategies']).toBe(id);
  });

  it('sets HOST_IP from status.hostIP in every container that uses it', () => {
    for (const c of allContainers(deployment)) {
      const uses = scriptsOf(deployment).some((x) => x.where.startsWith(`${c.name} `) && x.script.includes('HOST_IP'))
        || c.env?.some((e) => e.name === 'IDENTITY_HEALTH_CHECK');
      if (uses) expect(hasHostIpEnv(c), `${c.name} uses HOST_IP`).toBe(true);
    }
    expect(allContainers(deployment).some(hasHostIpEnv)).toBe(true);
  });

  it('compares the NMI body with Active, uses curl --fail and bounds every request', () => {
    for (const { where, script } of scriptsOf(deployment)) {
      if (script.includes('/healthz')) expect(script, where).toContain(`[ "$body" = 'Active' ]`);
      for (const line of script.split('\n').filter((l) => /\bcurl\s/.test(l) && !l.includes('command -v'))) {
        expect(line, where).toContain('--fail');
        expect(line, where).toContain('--max-time');
      }
      for (const line of script.split('\n').filter((l) => /\bwget\s/.test(l) && !l.includes('command -v'))) {
        expect(line, where).toMatch(/timeout "\$2" wget/);
      }
      expect(script, where).not.toContain('==');
    }
  });

  it('sets exec-probe timeoutSeconds above the bound of the requests inside', () => {
    for (const c of allContainers(deployment)) {
      for (const k of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
        const p = c[k];
        if (!p?.exec) continue;
        const script = scriptsOf(deployment).find((x) => x.where === `${c.name} ${k} file ${p.exec!.command[3]}`)!.script;
        const bounds = [...script.matchAll(/\bget \S+ (\d+) 2>&1/g)].map((m) => Number(m[1]));
        expect(bounds.length).toBeGreaterThan(0);
        expect(p.timeoutSeconds as number, `${c.name} ${k}`).toBeGreaterThan(bounds.reduce((a, b) => a + b, 0));
      }
    }
  });

  it('never points an httpGet probe at 169.254.169.254 or the NMI port', () => {
    for (const c of allContainers(deployment)) {
      for (const k of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
        const g = c[k]?.httpGet as any;
        if (!g) continue;
        expect(g.host).toBeUndefined();
        expect(g.port).not.toBe(8085);
      }
    }
  });

  it('hardens every injected container (Pod Security Standards restricted)', () => {
    for (const c of injected(deployment)) {
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false, runAsNonRoot: true, readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      });
      expect((c.resources as any).requests).toBeDefined();
      expect((c.resources as any).limits).toBeDefined();
    }
  });
});

describe('probe strategies on a container without a startup probe', () => {
  it.each(['nmi-probes', 'identity-probes'] as const)('%s adds a startup probe sized for the identity-assignment window', (id) => {
    const [d] = workloads(synthWith(id, {}, 'L1 KubeDeployment'));
    const app = allContainers(d)[0];
    expect(app.startupProbe?.exec?.command[4]).toBe('startup');
    const window = (app.startupProbe!.periodSeconds as number) * (app.startupProbe!.failureThreshold as number);
    expect(window).toBeGreaterThanOrEqual(120); // NMI retries 80 s; VMSS assignment 40-60 s
  });
});

describe('variants', () => {
  it('wget variant uses busybox and timeout-bounded wget', () => {
    const [d] = workloads(synthWith('nmi-init', { client: 'wget' }));
    const init = allContainers(d)[0];
    expect(init.image).toBe('busybox:1.37.0');
    expect(init.command![2]).toContain(`timeout "$2" wget -q -O - --header 'Metadata: true'`);
    expect(init.command![2]).not.toMatch(/\bcurl -/);
  });

  it('az variant logs in with the identity and keeps the root filesystem read-only', () => {
    const chart = newChart();
    withIdentityInitCheck(FLAVOURS['cdk8s-plus-27'](chart), { client: 'az', clientId: '11111111-1111-1111-1111-111111111111' });
    const [d] = workloads(synth(chart));
    const init = allContainers(d)[0];
    expect(init.image).toMatch(/^mcr\.microsoft\.com\/azure-cli:/);
    // --username for a managed identity is refused by current Azure CLI ("no longer supported").
    expect(init.command![2]).toContain(`az login --identity --client-id '11111111-1111-1111-1111-111111111111' --allow-no-subscriptions`);
    expect(init.command![2]).not.toContain('--username');
    expect(init.env).toContainEqual({ name: 'AZURE_CONFIG_DIR', value: '/tmp/.azure' });
    expect(init.volumeMounts).toContainEqual({ name: 'identity-health-tmp', mountPath: '/tmp' });
    expect(init.securityContext).toMatchObject({ readOnlyRootFilesystem: true });
  });

  it('clientId selects the identity and, by default, checks the token appid', () => {
    const [d] = workloads(synthWith('identity-probes', { clientId: 'AAAAAAAA-1111-1111-1111-111111111111' }));
    const fileOf = (doc: KubeObject) => scriptsOf(doc).find((x) => x.where.startsWith('app readinessProbe file'))!.script;
    const s = fileOf(d);
    expect(s).toContain('&client_id=aaaaaaaa-1111-1111-1111-111111111111');
    expect(s).toContain(`*'"appid":"aaaaaaaa-1111-1111-1111-111111111111"'*|*'"azp":"aaaaaaaa-1111-1111-1111-111111111111"'*`);
    const [d2] = workloads(synthWith('identity-probes', { clientId: 'aaaaaaaa-1111-1111-1111-111111111111', verifyIdentity: false }));
    expect(fileOf(d2)).not.toContain('appid');
  });

  it('upstream facts: msi_res_id (every NMI reads it), objectId refused (NMI never reads object_id), az --resource-id, init token bound above NMI\'s 100 s retry window', () => {
    const MI = '/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders';
    const url = probeScriptOf(STRATEGIES['identity-probes'].plan({ miResId: MI }));
    expect(url).toContain(`&msi_res_id=${encodeURIComponent(MI)}`);
    expect(url).not.toContain('mi_res_id=');
    expect(() => STRATEGIES['identity-probes'].plan({ objectId: '11111111-2222-3333-4444-555555555555' })).toThrow(/objectId .*clientId or miResId instead: with pod identity NMI never reads object_id/);
    expect(() => STRATEGIES['identity-app-check'].plan({ objectId: '11111111-2222-3333-4444-555555555555' })).toThrow(/NMI never reads object_id/);
    const az = STRATEGIES['identity-init'].plan({ client: 'az', miResId: MI }).initContainers[0];
    expect(az.command![2]).toContain(`az login --identity --resource-id '${MI}'`);
    expect(az.image).toBe('mcr.microsoft.com/azure-cli:2.91.0');
    const init = STRATEGIES['identity-init'].plan({}).initContainers[0].command![2];
    expect(init).toMatch(/\bget '[^']+' 110 2>&1/);
  });

  it('every request to NMI, IMDS or the proxy sidecar bypasses proxies: curl --noproxy, wget and az with the proxy env unset', () => {
    const scripts = [
      STRATEGIES['identity-init'].plan({ client: 'curl' }).initContainers[0].command![2],
      STRATEGIES['identity-init'].plan({ client: 'wget' }).initContainers[0].command![2],
      STRATEGIES['identity-init'].plan({ client: 'az' }).initContainers[0].command![2],
      probeScriptOf(getStrategy('workload-identity-probes').plan({ proxySidecar: true, client: 'wget' })),
    ] as string[];
    expect(scripts[0]).toContain(`curl -sS --noproxy '*'`);
    for (const s of scripts.slice(1)) expect(s).toContain('unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY;');
  });

  it('workload-identity-init refuses proxySidecar: the proxy starts before init containers only as a native sidecar (webhook >= 1.5, Kubernetes >= 1.32)', () => {
    expect(() => getStrategy('workload-identity-init').plan({ proxySidecar: true })).toThrow(/invalid proxySidecar true: expected false in an init container: the proxy sidecar starts before init containers only as a native sidecar \(workload identity webhook >= 1.5 on Kubernetes >= 1.32\)/);
    expect(() => getStrategy('workload-identity-probes').plan({ proxySidecar: true })).not.toThrow();
  });

  it('timings are cdk8s Durations or seconds, and a timeout below the check bound is refused', () => {
    const { Duration } = require('cdk8s');
    const [d] = workloads(synthWith('nmi-probes', { readiness: { periodSeconds: Duration.seconds(7), timeoutSeconds: 5 } }));
    expect(allContainers(d).find((c) => c.name === 'app')!.readinessProbe).toMatchObject({ periodSeconds: 7, timeoutSeconds: 5 });
    expect(() => synthWith('identity-probes', { readiness: { timeoutSeconds: 3 } })).toThrow(/readiness.timeoutSeconds.*more than the check's own bound of 6s/);
  });

  it('app-check strategies need a port when the container declares none', () => {
    const chart = newChart();
    const { k8s } = require('cdk8s-plus-27');
    new k8s.KubeDeployment(chart, 'noport', {
      metadata: { name: 'noport' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'app', image: 'x' }] } } },
    });
    withNmiAppHealthCheck(chart);
    expect(() => synth(chart)).toThrow(/test\/noport.*Deployment noport: container "app" declares no port: set option port/);
  });

  it('withX on a construct without workloads is an error, not a silent no-op', () => {
    const chart = newChart();
    expect(() => withNmiProbes(chart)).toThrow(/holds no workload/);
  });

  it('unknown option keys are refused (a typo must not fall back to a default)', () => {
    expect(() => withIdentityProbes(FLAVOURS['cdk8s-plus-27'](newChart()), { clientID: 'x' } as any)).toThrow(/invalid option of identity-probes "clientID": expected one of/);
    expect(() => withNmiProbes(FLAVOURS['cdk8s-plus-27'](newChart()), { readiness: { period: 5 } } as any)).toThrow(/option of readiness "period"/);
  });
});
