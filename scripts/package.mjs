#!/usr/bin/env node
/**
 * `npm run package [-- --out <dir>]`: the two published packages, as tarballs in <dir> (default
 * lib/packages/):
 *
 * - cdk8s-identity-health: the library (cdk8s and constructs are peers), the `identity-health`
 *   CLI and, as a subpath, the runtime module. `npm pack` at the root makes it too (prepack builds).
 * - cdk8s-identity-health-runtime: the runtime module alone (src/runtime compiled), no
 *   dependencies, for apps that want only the app-level checks (strategies 3, 6, 9). Staged here
 *   in lib/packages/runtime/ from the compiled files and the root package.json (one version).
 *
 * Why two packages, not optional peers: see docs/design.md ("Packaging").
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = path.resolve(outArg >= 0 ? args[outArg + 1] : path.join(ROOT, 'lib/packages'));
const npm = (argv, cwd) => execFileSync('npm', argv, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim().split('\n').pop();

export const RUNTIME_PACKAGE = 'cdk8s-identity-health-runtime';

/** Stages the runtime package from lib/src/runtime (built) into `dir`; returns dir. */
export function stageRuntime(dir = path.join(ROOT, 'lib/packages/runtime')) {
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const built = path.join(ROOT, 'lib/src/runtime');
  if (!fs.existsSync(path.join(built, 'index.js'))) throw new Error(`${built}/index.js is missing: run npm run build first`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(built)) {
    if (!/\.(js|d\.ts)$/.test(f)) continue;
    const text = fs.readFileSync(path.join(built, f), 'utf8');
    // The runtime is self-contained: a relative import that leaves src/runtime would break here.
    if (/require\("\.\.\//.test(text) || /from '\.\.\//.test(text)) throw new Error(`${f} imports from outside src/runtime`);
    fs.writeFileSync(path.join(dir, f), text);
  }
  fs.copyFileSync(path.join(ROOT, 'LICENSE'), path.join(dir, 'LICENSE'));
  const doc = fs.readFileSync(path.join(ROOT, 'docs/runtime.md'), 'utf8').replaceAll(`${root.name}/runtime`, RUNTIME_PACKAGE);
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${RUNTIME_PACKAGE}

The runtime module of the ${root.name} package on its own: no
dependencies (Node standard library only). The same module ships in ${root.name} as
\`${root.name}/runtime\`; install this one when the app needs only the app-level checks.

\`\`\`sh
npm install ${RUNTIME_PACKAGE}
\`\`\`

${doc.replace(/^# .*\n/, '')}`);
  const pkg = {
    name: RUNTIME_PACKAGE,
    version: root.version,
    description: 'App-level Azure identity health checks (AAD Pod Identity NMI / IMDS token, Azure AD Workload Identity) for Node services; no dependencies',
    license: root.license,
    type: 'commonjs',
    main: 'index.js',
    types: 'index.d.ts',
    exports: { '.': { types: './index.d.ts', default: './index.js' }, './package.json': './package.json' },
    files: ['*.js', '*.d.ts', 'README.md', 'LICENSE'],
    engines: root.engines,
    keywords: ['azure', 'aks', 'pod-identity', 'workload-identity', 'health-check', 'readiness', 'liveness'],
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  return dir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  if (!args.includes('--no-build')) execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  fs.mkdirSync(out, { recursive: true });
  const runtimeDir = stageRuntime();
  // Built just above: skip the root prepack's second build.
  const main = npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', out], ROOT);
  const runtime = npm(['pack', '--silent', '--pack-destination', out], runtimeDir);
  console.log([main, runtime].map((t) => path.join(out, t)).join('\n'));
}
