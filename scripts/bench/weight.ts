/**
 * Output weight (issue 13): bytes of YAML each strategy adds per workload, measured as the synth
 * of N cdk8s-plus-27 Deployments with the strategy on the chart minus the same without, over N
 * (scripts/bench/weight-synth.ts). The reference, measured in the same run by the same code, is
 * what users got before issue 13: the release at commit RELEASE, taken from git (`git archive`
 * into a temp dir with this checkout's node_modules linked) and run in a child process. A fixed
 * commit, so the reference does not move when the current probe scripts change.
 * Target for the probe strategies (placement 'probes'): at most 0.5x the release; the others are
 * observed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AnyStrategyId, getStrategy } from '../../src';
import { mixinClassName, mixinFor } from '../../src/cdk8s/by-id';
import { STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../strategies';
import { figure } from './figures';
import { Added, addedBytes, N, optionsFor } from './weight-synth';

/** The release before issue 13: the last commit whose probes ran their script inline (`sh -c <script>`). */
const RELEASE = '2bf6ed5a9b1c548f23402bed01811e5a84ad72a1';
const TARGET = 0.5;
const REPO = path.resolve(__dirname, '../..');

const git = (args: string[]) => spawnSync('git', args, { cwd: REPO, maxBuffer: 256 * 2 ** 20 });

/** Bytes added per workload by RELEASE's strategies (`ids`), measured in a child on a `git archive` of it. */
function releaseAdded(ids: readonly AnyStrategyId[]): Added {
  if (git(['cat-file', '-e', `${RELEASE}^{commit}`]).status !== 0) {
    throw new Error(`weight: commit ${RELEASE} (the release before issue 13, the reference) is not in this repository; in a shallow clone run \`git fetch --unshallow\``);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-bench-release-'));
  try {
    const tar = git(['archive', '--format=tar', RELEASE, 'src', 'strategies', 'package.json', 'tsconfig.json']);
    if (tar.status !== 0) throw new Error(`git archive ${RELEASE} failed: ${tar.stderr}`);
    const x = spawnSync('tar', ['-x', '-C', dir], { input: tar.stdout });
    if (x.status !== 0) throw new Error(`tar -x failed: ${x.stderr}`);
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const classes = JSON.stringify(Object.fromEntries(ids.map((id) => [id, mixinClassName(id)])));
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'weight-synth.ts'), dir, classes], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`weight: measuring the release ${RELEASE.slice(0, 7)} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(id: AnyStrategyId, added: number, release: number | undefined, port: boolean): void {
  if (release === undefined) throw new Error(`weight: strategy ${id} is not in the release ${RELEASE.slice(0, 7)}`);
  const ratio = added / release;
  const probes = getStrategy(id).placement === 'probes';
  figure({
    what: `YAML added per workload, ${id}${port ? '' : ', Deployment without a port (three probes carry the check)'}`,
    measured: `${added.toFixed(0)} B = ${ratio.toFixed(3)}x`,
    reference: `the release before issue 13 (${RELEASE.slice(0, 7)}) ${release.toFixed(0)} B`,
    ...(probes ? { target: `<= ${TARGET}x`, met: ratio <= TARGET } : { target: '-' }),
  });
}

export async function run(): Promise<void> {
  console.log(`(synth of ${N} cdk8s-plus-27 Deployments with the strategy minus without, / ${N}; clientId set where taken)`);
  const ids = [...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS];
  const probeIds = ids.filter((id) => getStrategy(id).placement === 'probes');
  const release = releaseAdded(ids);
  const now = addedBytes(ids, probeIds, (id) => mixinFor(id as AnyStrategyId, optionsFor(getStrategy(id))));
  for (const id of ids) report(id, now.port[id], release.port[id], true);
  for (const id of probeIds) report(id, now.noPort[id], release.noPort[id], false);
}

if (require.main === module) run().catch((e) => { console.error(e); process.exit(1); });
