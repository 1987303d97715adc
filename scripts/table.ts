/**
 * `npm run table`: runs every strategy's generated checks through the table scenarios in the
 * behaviour runner (test/behaviour/model.ts) and prints the observed strategy table and the
 * "NMI gone, IMDS answers with the node identity" table as markdown. Writes one timeline
 * picture per strategy (docs/timelines/<strategy>.svg) from an observed run. Exits 1 when the
 * observed table differs from the one in DESIGN.md. Needs root, ip, busybox, dash and curl.
 */
import fs from 'node:fs';
import path from 'node:path';
import { getStrategy } from '../strategies';
import { requireTools, startBed } from '../test/bed/bed';
import {
  EXPECTED, LATE_THEN_DIES, nodeIdentityMarkdown, nodeIdentityVariants, NodeIdentityRow, observeNodeIdentity, observeRow, Row, run,
  STRATEGY_IDS, StrategyId, tableMarkdown,
} from '../test/behaviour/model';
import { timelineSvg } from '../test/behaviour/svg';

async function main(): Promise<void> {
  requireTools(['busybox', 'dash', 'curl', 'ip', 'unshare']);
  const bed = await startBed();
  const rows: Partial<Record<StrategyId, Row>> = {};
  const node: NodeIdentityRow[] = [];
  const dir = path.join(__dirname, '../docs/timelines');
  try {
    for (const id of STRATEGY_IDS) {
      rows[id] = (await observeRow(bed, id)).row;
      const r = await run(bed, id, LATE_THEN_DIES);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${id}.svg`), timelineSvg(r, `${getStrategy(id).number}. ${id} (defaults)`));
      for (const v of nodeIdentityVariants(id)) node.push(await observeNodeIdentity(bed, id, v));
    }
  } finally {
    await bed.stop();
  }
  console.log('### Observed strategy table\n');
  console.log(tableMarkdown(rows));
  console.log('\n### NMI gone, IMDS answers with the node identity\n');
  console.log(nodeIdentityMarkdown(node));
  console.log(`\nTimelines written to ${path.relative(process.cwd(), dir)}/<strategy>.svg`);
  const differ = STRATEGY_IDS.filter((id) => JSON.stringify(rows[id]) !== JSON.stringify(EXPECTED[id]));
  if (differ.length) { console.error(`observed table differs from DESIGN.md for: ${differ.join(', ')}`); process.exitCode = 1; }
}

main().catch((e) => { console.error(e); process.exit(1); });
