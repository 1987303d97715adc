#!/usr/bin/env node
/**
 * Second half of cdk8s.yaml's app: `cdk8s synth` empties its output directory before it runs the
 * app, so the app synthesizes into a staging directory and this step, run only when the app
 * succeeded, replaces the manifests in dist/ (each file written to a temp name, then renamed;
 * manifests the app no longer writes are removed). A failing app leaves dist/ as it was.
 */
import fs from 'node:fs';
import path from 'node:path';

const [from, to] = process.argv.slice(2).map((p) => path.resolve(p));
if (!from || !to) throw new Error('usage: publish-dist.mjs <staging dir> <dist dir>');
const manifests = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')) : []);
const fresh = manifests(from);
if (!fresh.length) {
  console.error(`publish-dist: no manifests in ${path.relative(process.cwd(), from)}; ${path.relative(process.cwd(), to)}/ left as it was`);
  process.exit(1);
}
fs.mkdirSync(to, { recursive: true });
for (const f of fresh) {
  const tmp = path.join(to, `.${f}.${process.pid}.tmp`);
  fs.copyFileSync(path.join(from, f), tmp);
  fs.renameSync(tmp, path.join(to, f));
}
for (const f of manifests(to)) if (!fresh.includes(f)) fs.rmSync(path.join(to, f));
console.error(`Wrote ${fresh.length} manifests to ${path.relative(process.cwd(), to) || '.'}/`);
