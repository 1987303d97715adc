/**
 * Synthesis overhead of a strategy applied to a whole chart: 1,000 cdk8s-plus-27 Deployments,
 * chart.toJson() with the mixin divided by chart.toJson() without it, both measured in this run
 * (interleaved, best of 15, GC before each: the minimum is the least disturbed by other load on
 * the machine). Target: at most 1.3.
 */
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IdentityProbes, NmiInitCheck } from '../../src';

const N = 1000;

function build(mixin?: () => object): Chart {
  const chart = new Chart(new App(), 'bench');
  for (let i = 0; i < N; i++) {
    new kplus.Deployment(chart, `d${i}`, { containers: [{ name: 'app', image: 'curlimages/curl:8.11.1', portNumber: 8080 }] });
  }
  if (mixin) chart.with(mixin() as any);
  return chart;
}

function time(f: () => unknown): number {
  (globalThis as { gc?: () => void }).gc?.();
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const best = (xs: number[]) => Math.min(...xs);

export async function run(): Promise<void> {
  const cases: Array<[string, (() => object) | undefined]> = [
    ['none', undefined],
    ['identity-probes', () => new IdentityProbes({ clientId: '11111111-1111-1111-1111-111111111111' })],
    ['nmi-init', () => new NmiInitCheck()],
  ];
  const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  build().toJson(); // warm up
  for (let rep = 0; rep < 15; rep++) {
    for (const [name, mixin] of cases) {
      const chart = build(mixin);
      samples.get(name)!.push(time(() => chart.toJson()));
    }
  }
  const base = best(samples.get('none')!);
  console.log(`synth of ${N} cdk8s-plus-27 Deployments in one chart (chart.toJson, best of 15):`);
  console.log(`  without a strategy: ${base.toFixed(0)} ms (reference)`);
  for (const [name] of cases.slice(1)) {
    const m = best(samples.get(name)!);
    const ratio = m / base;
    console.log(`  with ${name} on the chart: ${m.toFixed(0)} ms, ratio ${ratio.toFixed(2)} (target <= 1.30: ${ratio <= 1.3 ? 'met' : 'NOT met'})`);
  }
}
