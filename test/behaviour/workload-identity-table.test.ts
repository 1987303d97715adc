/**
 * The strategy table for Azure AD Workload Identity (strategies 7-9), computed from runs of the
 * generated checks in the behaviour bed (model.ts WI_TABLE_SCENARIOS): the runner gives the pod
 * the webhook's env and a projected token file, AAD's token endpoint is mocked at
 * AZURE_AUTHORITY_HOST inside the namespace. The rows must equal the expected ones (WI_EXPECTED,
 * with the options that make them true) in every shell x client combination the variant needs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStrategy } from '../../strategies';
import { Bed, requireTools, startBed } from '../bed/bed';
import { Client, image, IMAGES } from '../bed/images';
import {
  firstStart, notReadyAfter, observeWiRow, Run, run, Scenario, WI_DEFAULT_EXPECTED, WI_EXPECTED, WI_SCENARIOS, wiTableMarkdown,
  WORKLOAD_IDENTITY_STRATEGY_IDS,
} from './model';

const TOOLS = ['busybox', 'dash', 'curl', 'ip', 'unshare'];
const outputs = (r: Run) => r.result.timeline.flatMap((e) => (e.type === 'probe' || e.type === 'init' ? [e.output] : [])).join('\n');
const why = (runs: Record<string, Run>) => Object.values(runs).map((r) => `${r.scenario.id}: ${r.result.timeline
  .filter((e) => e.type !== 'request' && (e.type !== 'probe' || !e.ok)).slice(0, 12)
  .map((e) => `${e.t}s ${e.type}${'output' in e ? ` ${e.output.slice(0, 100)}` : ''}`).join('; ')}`).join('\n');
const WI = WORKLOAD_IDENTITY_STRATEGY_IDS;

describe('workload identity table, observed', () => {
  let bed: Bed;
  beforeAll(async () => { requireTools(TOOLS); bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  for (const id of WI) {
    const e = WI_EXPECTED[id];
    it(`${id} (${e.name}): observed row equals the expected one and the strategy's claims, for the stated reasons`, async () => {
      const { row, runs } = await observeWiRow(bed, id, e.options);
      expect(row, why(runs)).toEqual(e.row);
      // A claim "with exchange" holds as "yes" when the expected run has the exchange on.
      const c = getStrategy(id).claims;
      const claimed = (v: string) => (v === 'with exchange' && (e.options as { exchange?: boolean }).exchange ? 'yes' : v);
      expect(row).toEqual({ startGated: claimed(c.startGated), runtime: claimed(c.runtime), otherFaults: claimed(c.otherFaults) });
      if (getStrategy(id).placement === 'app') return; // the app's reasons are in its /readyz body, not in the probe result
      const S = WI_SCENARIOS;
      // (An init container that never ends shows its output only when it gives up, after 300 s.)
      if (id !== 'workload-identity-init') expect(outputs(runs[S.webhookMissing.id])).toContain('no AZURE_* env: the workload identity webhook did not mutate this pod. The pod label azure.workload.identity/use: "true" is missing');
      expect(outputs(runs[S.tokenLate.id])).toContain('is missing or unreadable (projected service account token volume)');
      expect(outputs(runs[S.tokenExpiredStart.id])).toMatch(/federated token in \S+ expired at \d+ \(kubelet stopped refreshing/);
      expect(outputs(runs[S.ficStart.id])).toMatch(/token exchange at http:\/\/127\.0\.10\.5\/[0-9a-f-]{36}\/oauth2\/v2\.0\/token refused \(federated identity credential missing.*400/);
      if (id !== 'workload-identity-init') expect(outputs(runs[S.tokenExpires.id])).toContain('expired at');
    });
  }

  // (workload-identity-probes with its defaults: in the images without a client, below.)
  for (const id of ['workload-identity-app-check'] as const) {
    const e = WI_DEFAULT_EXPECTED[id]!;
    it(`${id} (${e.name}): a missing federated credential goes unseen, nothing asks AAD`, async () => {
      const { row, runs } = await observeWiRow(bed, id, e.options);
      expect(row, why(runs)).toEqual(e.row);
      const fic = runs[WI_SCENARIOS.ficRuntime.id];
      expect(fic.result.timeline.filter((x) => x.type === 'request' && x.kind === 'aad')).toHaveLength(0);
      expect(notReadyAfter(fic, 10)).toBeUndefined();
    });
  }

  it('prints as markdown', () => {
    const md = wiTableMarkdown(WI.map((id) => ({ strategy: id, variant: WI_EXPECTED[id].name, row: WI_EXPECTED[id].row })));
    expect(md.split('\n')).toHaveLength(2 + WI.length);
    expect(md).toContain('| 8 | workload-identity-probes | exchange: true | yes | yes | yes |');
  });
});

describe('workload identity in real shells', () => {
  let bed: Bed;
  beforeAll(async () => { requireTools(TOOLS); bed = await startBed(); });
  afterAll(async () => { await bed?.stop(); });

  // With the exchange (7 by default, 8 with exchange: true) the check needs curl or wget.
  // busybox-curl, the default image, is in the table above.
  for (const img of IMAGES.filter((i) => i.id !== 'busybox-curl')) {
    for (const [id, options] of [['workload-identity-init', {}], ['workload-identity-probes', { exchange: true }]] as const) {
      it(`${id} ${JSON.stringify(options)} with ${img.id}: observed row equals the expected one`, async () => {
        const { row, runs } = await observeWiRow(bed, id, { ...options, client: img.client }, { image: img });
        expect(row, why(runs)).toEqual(WI_EXPECTED[id].row);
      });
    }
  }

  // Without the exchange the check needs only sh, tr and base64: images without any HTTP client.
  for (const shell of ['busybox', 'dash'] as const) {
    it(`workload-identity-probes (defaults) with ${shell} and no HTTP client: observed row equals the expected one`, async () => {
      const img = image(shell, 'none');
      const { row, runs } = await observeWiRow(bed, 'workload-identity-probes', {}, { image: img });
      expect(row, why(runs)).toEqual(WI_DEFAULT_EXPECTED['workload-identity-probes']!.row);
      expect(Object.values(runs).flatMap((r) => r.result.timeline).filter((x) => x.type === 'request' && x.kind === 'aad')).toHaveLength(0);
      expect(outputs(runs[WI_SCENARIOS.tokenExpires.id])).toContain('expired at');
    });
  }

  for (const client of ['curl', 'wget'] as Client[]) {
    it(`workload-identity-init without ${client}: the message names the missing binary`, async () => {
      const sc: Scenario = { id: 'no-client', title: 'no client', duration: 3, fault: { start: 0, end: 3 }, steps: [] };
      const r = await run(bed, 'workload-identity-init', sc, { image: image('dash', 'none'), options: { client } });
      expect(outputs(r)).toContain(`identity-health: ${client} not found in this container`);
      expect(firstStart(r)).toBeUndefined();
    });
  }
});
