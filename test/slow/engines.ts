/**
 * Where the slow suites find the engines that scripts/slow-setup.d built (scripts/engines/lib.sh):
 * the manifest $IH_ENGINES_CACHE/manifest.tsv, one "name<TAB>version<TAB>path" line per engine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function enginesCache(): string {
  return process.env.IH_ENGINES_CACHE
    ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cdk8s-identity-health', 'engines');
}

export interface Engine { name: string; version: string; bin: string }

/** The engine built by the setup step, or an error that says how to build it. */
export function engine(name: string): Engine {
  const manifest = path.join(enginesCache(), 'manifest.tsv');
  const line = fs.existsSync(manifest)
    ? fs.readFileSync(manifest, 'utf8').split('\n').find((l) => l.split('\t')[0] === name)
    : undefined;
  const [, version, bin] = line?.split('\t') ?? [];
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`engine ${name} is not built: run "npm run test:slow" (its setup in scripts/slow-setup.d builds it into ${enginesCache()})`);
  }
  return { name, version, bin };
}
