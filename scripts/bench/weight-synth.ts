/**
 * The measurement of scripts/bench/weight.ts, shared by both sides of its comparison: the YAML of
 * N cdk8s-plus-27 Deployments with a strategy mixin on the chart, minus the same without, over N.
 * weight.ts calls it in-process for the current code. Run as a child,
 * `node --import tsx weight-synth.ts <dir> <classes>` with `<dir>` a `git archive` of an older
 * release (its src/ and strategies/, node_modules linked) and `<classes>` the JSON map of strategy id
 * to mixin class name (the current names, which that release shares), it measures that release's
 * mixin classes the same way and prints JSON ({@link Added}). A child, so the two copies of the
 * library never share a process.
 */
import * as path from 'path';
import { App, Chart, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { IMixin } from 'constructs';

export const N = 100;
const CLIENT_ID = '11111111-1111-1111-1111-111111111111';

/** Bytes of YAML added per workload, by strategy id: with a port, and (probe strategies only) without. */
export interface Added { port: Record<string, number>; noPort: Record<string, number> }

/** The options a strategy is measured with: a clientId where it takes one. */
export function optionsFor(strategy: { optionGroups: readonly string[] }): object {
  return strategy.optionGroups.some((g) => g === 'token' || g === 'wi') ? { clientId: CLIENT_ID } : {};
}

/** cdk8s-plus gives a container with a port a tcpSocket startup probe, which the strategies keep: two probes carry the check; without a port, three do. */
function yamlBytes(mixin: IMixin | undefined, port: boolean): number {
  const chart = new Chart(new App(), 'bench');
  for (let i = 0; i < N; i++) new kplus.Deployment(chart, `d${i}`, { containers: [{ name: 'app', image: 'example.azurecr.io/app:1.0', ...(port ? { portNumber: 8080 } : {}) }] });
  if (mixin) chart.with(mixin);
  return Buffer.byteLength(Yaml.stringify(...chart.toJson()));
}

/** Bytes added per workload by each of `ids` (with a port) and each of `probeIds` (without). */
export function addedBytes(ids: readonly string[], probeIds: readonly string[], mixinOf: (id: string) => IMixin): Added {
  const port = yamlBytes(undefined, true);
  const bare = yamlBytes(undefined, false);
  return {
    port: Object.fromEntries(ids.map((id) => [id, (yamlBytes(mixinOf(id), true) - port) / N])),
    noPort: Object.fromEntries(probeIds.map((id) => [id, (yamlBytes(mixinOf(id), false) - bare) / N])),
  };
}

if (require.main === module) {
  const lib = require(path.resolve(process.argv[2], 'src'));
  const classes: Record<string, string> = JSON.parse(process.argv[3]);
  const ids: string[] = [...lib.STRATEGY_IDS, ...lib.WORKLOAD_IDENTITY_STRATEGY_IDS];
  const mixinOf = (id: string): IMixin => {
    const cls = lib[classes[id]];
    if (typeof cls !== 'function') throw new Error(`the release has no mixin class for ${id} (expected ${classes[id]})`);
    return new cls(optionsFor(lib.getStrategy(id)));
  };
  process.stdout.write(JSON.stringify(addedBytes(ids, ids.filter((id) => lib.getStrategy(id).placement === 'probes'), mixinOf)));
}
