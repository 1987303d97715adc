/**
 * `npm run bench`: every measurement prints a ratio against a reference measured in the same
 * run (never an absolute time compared with a constant). Each module here exports `run()`.
 */
const only = process.argv.slice(2);
const modules: Array<[string, string]> = [
  ['synth', './synth'],
  ['weight', './weight'],
  ['cli', './cli'],
  ['scale', './scale'],
  ['latency', './latency'],
];

async function main(): Promise<void> {
  for (const [name, file] of modules) {
    if (only.length && !only.includes(name)) continue;
    let mod: { run(): Promise<void> };
    try {
      mod = require(file);
    } catch (e: any) {
      if (e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(file.slice(2))) { console.log(`## ${name}: not written yet`); continue; }
      throw e;
    }
    console.log(`## ${name}`);
    await mod.run();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
