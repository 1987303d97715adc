/**
 * Output weight (issue 13): bytes of YAML each strategy adds per workload, measured as the synth
 * of N cdk8s-plus-27 Deployments with the strategy on the chart minus the same without, over N.
 * For the probe strategies (2, 5, 8) the reference, computed in the same run, is the inline form
 * the previous release emitted: the same output with each probe's command rewritten back to
 * `sh -c <script> identity-health <mode>` and the script's annotation, volume and mount removed.
 * Target: at most 0.5x the inline form.
 */
import { App, Chart, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { AnyStrategyId, getStrategy, IdentityHealthMixin } from '../../src';
import { mixinFor } from '../../src/cdk8s/by-id';
import { inlineExecProbe, projectedScript } from '../../src/pod-template/pieces';
import { KubeObject, PROBE_KINDS } from '../../src/pod-template/types';
import { podTemplateOf } from '../../src/pod-template/workload';
import { STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../strategies';
import { figure } from './figures';

const N = 100;
const TARGET = 0.5;
const CLIENT_ID = '11111111-1111-1111-1111-111111111111';

/** A mixin of strategy `id`, with a clientId where the strategy takes one. */
function mixinOf(id: AnyStrategyId): IdentityHealthMixin {
  const options = getStrategy(id).optionGroups.some((g) => g === 'token' || g === 'wi') ? { clientId: CLIENT_ID } : {};
  return mixinFor(id, options);
}

/** cdk8s-plus gives a container with a port a tcpSocket startup probe, which the strategies keep: two probes carry the check; without a port, three do. */
function synth(id?: AnyStrategyId, port = true): KubeObject[] {
  const chart = new Chart(new App(), 'bench');
  for (let i = 0; i < N; i++) new kplus.Deployment(chart, `d${i}`, { containers: [{ name: 'app', image: 'example.azurecr.io/app:1.0', ...(port ? { portNumber: 8080 } : {}) }] });
  if (id) chart.with(mixinOf(id));
  return chart.toJson();
}

const bytes = (docs: KubeObject[]) => Buffer.byteLength(Yaml.stringify(...docs));

/** The previous release's form of `doc`: each probe runs its script inline; no annotation, volume or mount for it. */
function inlineForm(doc: KubeObject): KubeObject {
  const tpl = podTemplateOf(doc)!;
  const projected = new Set<string>();
  for (const c of tpl.spec.containers) {
    for (const k of PROBE_KINDS) {
      const p = c[k];
      const r = p?.exec && projectedScript(p.exec.command[3], c.volumeMounts, tpl.spec.volumes, tpl.metadata.annotations);
      if (!r || !('script' in r)) continue;
      c[k] = inlineExecProbe(p!, r.script);
      projected.add(c.volumeMounts!.find((m) => p!.exec!.command[3].startsWith(`${m.mountPath}/`))!.name);
    }
  }
  for (const c of tpl.spec.containers) c.volumeMounts = c.volumeMounts?.filter((m) => !projected.has(m.name));
  for (const v of tpl.spec.volumes ?? []) {
    if (!projected.has(v.name)) continue;
    const field = (v.downwardAPI as any).items[0].fieldRef.fieldPath as string;
    delete tpl.metadata.annotations![/\['(.+)'\]/.exec(field)![1]];
  }
  tpl.spec.volumes = tpl.spec.volumes?.filter((v) => !projected.has(v.name));
  return doc;
}

function report(id: AnyStrategyId, port: boolean, base: number): void {
  const docs = synth(id, port);
  const added = (bytes(docs) - base) / N;
  const what = `YAML added per workload, ${id}${port ? '' : ' (Deployment without a startup probe of its own: three probes carry the check)'}`;
  if (getStrategy(id).placement !== 'probes') {
    figure({ what, measured: `${added.toFixed(0)} B`, reference: '-', target: '-' });
    return;
  }
  const inline = (bytes(docs.map((d) => inlineForm(structuredClone(d)))) - base) / N;
  const ratio = added / inline;
  figure({ what, measured: `${added.toFixed(0)} B = ${ratio.toFixed(2)}x`, reference: `the inline form (script in each probe, as the previous release) ${inline.toFixed(0)} B`, target: `<= ${TARGET}x`, met: ratio <= TARGET });
}

export async function run(): Promise<void> {
  console.log(`(synth of ${N} cdk8s-plus-27 Deployments with the strategy minus without, / ${N}; clientId set where taken)`);
  const base = bytes(synth());
  for (const id of [...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS]) report(id, true, base);
  const bare = bytes(synth(undefined, false));
  for (const id of [...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS].filter((x) => getStrategy(x).placement === 'probes')) report(id, false, bare);
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
