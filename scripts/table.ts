/**
 * `npm run table`: runs every strategy's generated checks through the table scenarios in the
 * behaviour runner (test/behaviour/model.ts) and prints the observed strategy table, the
 * "NMI gone, token requests reach IMDS" table and the faults table (what each strategy does
 * about NMI 403/404/500, NMI's shutdown window, proxy env, workload identity env missing) as
 * markdown. Writes one timeline
 * picture per strategy (docs/timelines/<strategy>.svg) from an observed run. Then the workload
 * identity table (strategies 7-9, with the options of WI_EXPECTED and, for 8 and 9, their
 * defaults too) and their timelines. Exits 1 when an observed row differs from the expected
 * one. Needs root, ip, busybox, dash and curl.
 */
import fs from 'node:fs';
import path from 'node:path';
import { getStrategy } from '../strategies';
import { requireTools, startBed } from '../test/bed/bed';
import {
  EXPECTED, FaultRow, faultsMarkdown, LATE_THEN_DIES, nodeIdentityMarkdown, nodeIdentityVariants, NodeIdentityRow, observeFaults, observeNodeIdentity, observeRow, observeWiRow, Row, run,
  STRATEGY_IDS, StrategyId, tableMarkdown, WI_DEFAULT_EXPECTED, WI_EXPECTED, WI_LATE_THEN_EXPIRES, WiRow, wiTableMarkdown, WORKLOAD_IDENTITY_STRATEGY_IDS,
} from '../test/behaviour/model';
import { timelineSvg } from '../test/behaviour/svg';

async function main(): Promise<void> {
  requireTools(['busybox', 'dash', 'curl', 'ip', 'unshare']);
  const bed = await startBed();
  const rows: Partial<Record<StrategyId, Row>> = {};
  const node: NodeIdentityRow[] = [];
  const wiRows: WiRow[] = [];
  const wiDiffer: string[] = [];
  const faults: FaultRow[] = [];
  const dir = path.join(__dirname, '../docs/timelines');
  try {
    for (const id of STRATEGY_IDS) {
      rows[id] = (await observeRow(bed, id)).row;
      const r = await run(bed, id, LATE_THEN_DIES);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${id}.svg`), timelineSvg(r, `${getStrategy(id).number}. ${id} (defaults)`));
      for (const v of nodeIdentityVariants(id)) node.push(await observeNodeIdentity(bed, id, v));
      faults.push(...await observeFaults(bed, id));
    }
    for (const id of WORKLOAD_IDENTITY_STRATEGY_IDS) {
      for (const e of [WI_EXPECTED[id], WI_DEFAULT_EXPECTED[id]]) {
        if (!e) continue;
        const { row } = await observeWiRow(bed, id, e.options);
        wiRows.push({ strategy: id, variant: e.name, row });
        if (JSON.stringify(row) !== JSON.stringify(e.row)) wiDiffer.push(`${id} (${e.name})`);
      }
      const e = WI_EXPECTED[id];
      const r = await run(bed, id, WI_LATE_THEN_EXPIRES, { options: e.options });
      fs.writeFileSync(path.join(dir, `${id}.svg`), timelineSvg(r, `${getStrategy(id).number}. ${id} (${e.name})`));
      faults.push(...await observeFaults(bed, id));
    }
  } finally {
    await bed.stop();
  }
  console.log('### Observed strategy table\n');
  console.log(tableMarkdown(rows));
  console.log('\n### NMI gone, token requests reach IMDS\n');
  console.log(nodeIdentityMarkdown(node));
  console.log('\n### Observed workload identity table\n');
  console.log(wiTableMarkdown(wiRows));
  const pi = faults.filter((f) => getStrategy(f.strategy).checks !== 'workload-identity');
  console.log('\n### Faults beyond the table: what each strategy does (defaults)\n');
  console.log(faultsMarkdown(pi));
  console.log('');
  console.log(faultsMarkdown(faults.filter((f) => !pi.includes(f))));
  console.log(`\nTimelines written to ${path.relative(process.cwd(), dir)}/<strategy>.svg`);
  const faultDiffer = faults.filter((f) => f.reaction.cell !== f.expected).map((f) => `${f.strategy} ${f.scenario} (${f.reaction.cell}, expected ${f.expected})`);
  if (faultDiffer.length) { console.error(`observed fault reactions differ from the decision: ${faultDiffer.join('; ')}`); process.exitCode = 1; }
  if (wiDiffer.length) { console.error(`observed workload identity rows differ from the expected ones for: ${wiDiffer.join(', ')}`); process.exitCode = 1; }
  const differ = STRATEGY_IDS.filter((id) => JSON.stringify(rows[id]) !== JSON.stringify(EXPECTED[id]));
  if (differ.length) { console.error(`observed table differs from DESIGN.md for: ${differ.join(', ')}`); process.exitCode = 1; }
}

main().catch((e) => { console.error(e); process.exit(1); });
