/**
 * `npm run bench [-- --readme] [module ...]`: every measurement prints a ratio against a reference
 * measured in the same run (never an absolute time compared with a constant), with its target.
 * Each module here exports `run()` and reports through figures.ts. `--readme` writes the figures of
 * the modules that ran into README.md's "Measured figures" (one block per module).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BENCH_MODULES, collected, startModule, updateReadme } from './figures';

const args = process.argv.slice(2);
const readme = args.includes('--readme');
const only = args.filter((a) => a !== '--readme');
const modules: Array<[string, string]> = BENCH_MODULES.map((m) => [m, `./${m}`]);
const unknown = only.filter((a) => !modules.some(([n]) => n === a));
if (unknown.length) {
  console.error(`bench: unknown module ${unknown.join(', ')} (modules: ${modules.map(([n]) => n).join(', ')}; flag: --readme)`);
  process.exit(2);
}

async function main(): Promise<void> {
  for (const [name, file] of modules) {
    if (only.length && !only.includes(name)) continue;
    console.log(`## ${name}`);
    startModule(name);
    const mod: { run(): Promise<void> } = require(file);
    await mod.run();
  }
  if (readme) {
    const file = path.resolve(__dirname, '../../README.md');
    const when = `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)} at the end, node ${process.version}`;
    fs.writeFileSync(file, updateReadme(fs.readFileSync(file, 'utf8'), when));
    console.log(`README.md: ${[...collected.keys()].join(', ')} figures written`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
