/**
 * Real public manifests (../shared/corpus) brought in with Include and given each strategy
 * through chart.with(...): nothing the user had is lost, non-workloads are untouched, and
 * everything validates against the Kubernetes schemas.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Include } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { STRATEGIES, STRATEGY_IDS } from '../../src';
import * as mixins from '../../src/cdk8s/strategies';
import { podTemplateOf } from '../../src/pod-template/workload';
import type { KubeObject } from '../../src/pod-template/types';
import { CORPUS, newChart, synth, validateK8s } from './helpers';

const CLASSES = {
  'nmi-init': mixins.NmiInitCheck, 'nmi-probes': mixins.NmiProbes, 'nmi-app-check': mixins.NmiAppHealthCheck,
  'identity-init': mixins.IdentityInitCheck, 'identity-probes': mixins.IdentityProbes, 'identity-app-check': mixins.IdentityAppHealthCheck,
} as const;

/**
 * Every value of `before` is still in `after` at the same place; arrays may only grow, and
 * named items (containers, env, volumes) are matched by name (ours go before the user's init
 * containers, so that identity is ready for them) while keeping their relative order.
 */
function expectKept(before: unknown, after: unknown, at: string): void {
  if (Array.isArray(before)) {
    expect(Array.isArray(after), at).toBe(true);
    const a = after as any[];
    expect(a.length, at).toBeGreaterThanOrEqual(before.length);
    const named = before.every((b) => b && typeof b === 'object' && typeof b.name === 'string');
    const matched = named ? before.map((b) => a.find((x) => x?.name === b.name)) : a.slice(0, before.length);
    if (named) expect(matched.map((m) => a.indexOf(m)), `${at} order`).toEqual([...matched.map((m) => a.indexOf(m))].sort((x, y) => x - y));
    before.forEach((b, i) => expectKept(b, matched[i], `${at}[${named ? b.name : i}]`));
  } else if (before && typeof before === 'object') {
    expect(after && typeof after === 'object', at).toBe(true);
    for (const [k, v] of Object.entries(before)) expectKept(v, (after as any)[k], `${at}.${k}`);
  } else {
    expect(after, at).toEqual(before);
  }
}

const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.yaml'));

describe.each(files)('corpus %s', (file) => {
  const load = () => { const chart = newChart(); new Include(chart, 'corpus', { url: path.join(CORPUS, file) }); return chart; };
  const before = synth(load());

  it('has workloads to work on', () => {
    expect(before.filter((d) => podTemplateOf(structuredClone(d))).length).toBeGreaterThan(5);
  });

  it.each(STRATEGY_IDS)('%s keeps every field, leaves non-workloads alone and validates', (id) => {
    const placement = STRATEGIES[id].placement;
    // Probe strategies move into a sidecar where the app has probes; app-check strategies skip those.
    const options = placement === 'probes' ? { onConflict: 'sidecar' } : placement === 'app' ? { onConflict: 'skip', port: 8080 } : {};
    const chart = load();
    const mixin = new CLASSES[id](options as any);
    chart.with(mixin);
    const after: KubeObject[] = synth(chart);
    expect(after.length).toBe(before.length);
    let changed = 0;
    after.forEach((doc, i) => {
      validateK8s(doc);
      const name = `${before[i].kind}/${before[i].metadata?.name}`;
      if (!podTemplateOf(structuredClone(before[i]))) { expect(doc, name).toEqual(before[i]); return; }
      expectKept(before[i], doc, name);
      const anno = podTemplateOf(structuredClone(doc))!.metadata.annotations?.['identity-health.io/strategies'];
      if (anno === id) changed++;
    });
    expect(changed + mixin.skipped.length).toBe(before.filter((d) => podTemplateOf(structuredClone(d))).length);
    if (placement === 'app') {
      // Workloads whose containers have their own probes are reported, not changed.
      for (const s of mixin.skipped) expect(s.reason).toMatch(/already has a (readiness|liveness)Probe/);
    } else {
      expect(mixin.skipped).toEqual([]);
    }
  });
});
