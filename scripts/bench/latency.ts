/**
 * Detection latency and request load of each strategy with its default settings, measured by
 * running the generated checks in the behaviour runner (test/behaviour/model.ts) against the
 * mock NMI/IMDS in a network namespace. Times are on the runner's virtual clock (commands run
 * for real; idle time is skipped), so they are kubelet-rule figures, not wall-clock ones.
 * - fault -> NotReady and fault -> restart: NMI goes away at 20 phases spread over 20 s (the
 *   common period of readiness 4 s and liveness 10 s), one fresh pod per phase;
 * - init strategies: NMI Active -> app started, over 10 phases of the 2 s try interval;
 * - load: requests counted at the mock over 10 minutes of a healthy pod after start-up;
 * - and, observed rather than targeted: IMDS answering 410 (updating) for 70 s.
 * Workload identity (7-9), a second table: the federated token file expires (kubelet stopped
 * refreshing it) at 20 phases -> NotReady / restart (8, 9 with defaults); the token file
 * appears -> app started (7); AAD token requests per pod per minute with exchange on (and off).
 */
import { getStrategy } from '../../strategies';
import { requireTools, startBed } from '../../test/bed/bed';
import {
  firstStart, measureLatency, median, notReadyAfter, probeSettings, requestsPerMinute, restartAfter, run as runScenario, Scenario, SCENARIOS, STRATEGY_IDS,
  WI_SCENARIOS, WORKLOAD_IDENTITY_STRATEGY_IDS, worst,
} from '../../test/behaviour/model';
import { figure } from './figures';

const PHASES = 20;
const fmt = (xs: number[]) => (xs.some((x) => !Number.isFinite(x)) ? 'never' : `${worst(xs).toFixed(1)} s / ${median(xs).toFixed(1)} s`);

/** The token file appears at `at` after being missing since the start. */
const tokenLateAt = (at: number): Scenario => ({ ...WI_SCENARIOS.tokenLate, id: `wi-token-late-${at}`, duration: at + 20, fault: { start: 0, end: at }, steps: [WI_SCENARIOS.tokenLate.steps[0], { ...WI_SCENARIOS.tokenLate.steps[1], at }] });

/** NMI Active at `at` after being Not Active since the start. */
const lateAt = (at: number): Scenario => ({ ...SCENARIOS.nmiLate, id: `nmi-late-${at}`, fault: { start: 0, end: at }, steps: [SCENARIOS.nmiLate.steps[0], { ...SCENARIOS.nmiLate.steps[1], at }] });

type Bed = Awaited<ReturnType<typeof startBed>>;

/**
 * The latency cells of one strategy: fault -> NotReady / restart for runtime strategies, or
 * readiness of the identity -> app started (10 phases of the 2 s try interval) for init ones.
 */
async function latencyCells(bed: Bed, id: Parameters<typeof measureLatency>[1], fault: string, ready: string, lateScenario: (at: number) => Scenario) {
  const none = 'n/a (no runtime check)';
  if (getStrategy(id).placement !== 'init') {
    const l = await measureLatency(bed, id, PHASES);
    const wi = id.startsWith('workload-identity');
    figure({ what: `${id}: ${fault} -> NotReady, worst / median of ${PHASES} phases`, measured: fmt(l.notReady), reference: '-', target: wi ? '-' : '<= 12 s', met: wi ? undefined : worst(l.notReady) <= 12 });
    figure({ what: `${id}: ${fault} -> container restart, worst / median`, measured: fmt(l.restart), reference: '-', target: wi ? '-' : '<= 45 s', met: wi ? undefined : worst(l.restart) <= 45 });
    return { nr: fmt(l.notReady), rs: fmt(l.restart), start: 'n/a (no init container)' };
  }
  const d: number[] = [];
  for (let i = 0; i < 10; i++) {
    const at = 20 + i * 0.2;
    const r = await runScenario(bed, id, lateScenario(at));
    d.push(+((firstStart(r) ?? Infinity) - at).toFixed(2));
  }
  figure({ what: `${id}: ${ready} -> app started, worst / median of 10 phases`, measured: fmt(d), reference: '-', target: '<= 5 s', met: worst(d) <= 5 });
  return { nr: none, rs: none, start: fmt(d) };
}

export async function run(): Promise<void> {
  requireTools(['busybox', 'dash', 'curl', 'ip', 'unshare']);
  const bed = await startBed();
  const started = Date.now();
  const lines = [
    '| # | strategy | NMI loss -> NotReady (worst / median) | NMI loss -> restart (worst / median) | NMI Active -> app started (worst / median) | token req/pod/min | NMI req/pod/min | settings (defaults) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const wiLines = [
    '| # | strategy | token file expiry -> NotReady (worst / median) | token file expiry -> restart (worst / median) | token file appears -> app started (worst / median) | AAD req/pod/min, exchange on | AAD req/pod/min, exchange off | settings (exchange on) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  try {
    for (const id of STRATEGY_IDS) {
      const s = getStrategy(id);
      const { nr, rs, start } = await latencyCells(bed, id, 'NMI loss', 'NMI Active', lateAt);
      if (s.checks === 'identity' && s.placement !== 'init') {
        const r = await runScenario(bed, id, SCENARIOS.imds410);
        const nr410 = notReadyAfter(r, 30);
        const rs410 = restartAfter(r, 30);
        figure({ what: `${id}: IMDS answers 410 (updating) for 70 s`, measured: `${nr410 === undefined ? 'stays Ready' : `NotReady after ${(nr410 - 30).toFixed(1)} s`}, ${rs410 === undefined ? 'no restart' : `restart after ${(rs410 - 30).toFixed(1)} s`}`, reference: '-', target: 'no restart', met: rs410 === undefined });
      }
      const happy = await runScenario(bed, id, { ...SCENARIOS.happy, duration: 630 });
      const tokens = requestsPerMinute(happy, 'token', 30);
      const nmi = requestsPerMinute(happy, 'nmi', 30);
      if (s.checks === 'identity') figure({ what: `${id}: token requests per pod per minute (healthy, 10 min)`, measured: tokens.toFixed(1), reference: '-', target: '<= 6', met: tokens <= 6 });
      if (s.placement !== 'init') figure({ what: `${id}: NMI health requests per pod per minute (node-local)`, measured: nmi.toFixed(1), reference: '-', target: '-' });
      lines.push(`| ${s.number} | ${id} | ${nr} | ${rs} | ${start} | ${tokens.toFixed(1)} | ${nmi.toFixed(1)} | ${probeSettings(id)} |`);
    }
    for (const id of WORKLOAD_IDENTITY_STRATEGY_IDS) {
      const s = getStrategy(id);
      const { nr, rs, start } = await latencyCells(bed, id, 'token file expiry (defaults)', 'the token file appeared', tokenLateAt);
      const happy = (options: object) => runScenario(bed, id, { ...WI_SCENARIOS.happy, duration: 630 }, { options });
      const on = s.placement === 'init' ? 'at start only' : requestsPerMinute(await happy({ exchange: true }), 'aad', 30).toFixed(1);
      const off = s.placement === 'init' ? 'n/a' : requestsPerMinute(await happy({}), 'aad', 30).toFixed(1);
      if (s.placement !== 'init') figure({ what: `${id}: AAD token requests per pod per minute, exchange on / off`, measured: `${on} / ${off}`, reference: '-', target: '-' });
      wiLines.push(`| ${s.number} | ${id} | ${nr} | ${rs} | ${start} | ${on} | ${off} | ${probeSettings(id, s.placement === 'init' ? {} : { exchange: true })} |`);
    }
  } finally {
    await bed.stop();
  }
  console.log(lines.join('\n'));
  console.log('\nAzure AD Workload Identity (token file expiry at 20 phases; defaults unless said):\n');
  console.log(wiLines.join('\n'));
  console.log('');
  console.log(`\n(${PHASES} fault phases per runtime strategy; virtual clock; measured in ${((Date.now() - started) / 1000).toFixed(0)} s of real time)`);
}
