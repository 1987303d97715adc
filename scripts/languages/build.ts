/**
 * One command for the other cdk8s languages: `npm run languages` (tsx scripts/languages/build.ts).
 *  1. generates the jsii facade (scripts/languages/facade.ts) and writes a jsii project — the
 *     facade, the library sources it needs (never the CLI or the runtime module), a package.json
 *     with the jsii targets — into a version-keyed build directory in the cache;
 *  2. compiles it with jsii and runs ONE jsii-pacmak for Python, Go and Java (a wheel, a Go module,
 *     a Maven jar);
 *  3. writes the API reference of each language with jsii-docgen (--docs copies it to docs/api/).
 * The jsii toolchain (scripts/languages/toolchain/package-lock.json) is installed into the cache,
 * never into the project's node_modules. Nothing is written in the repository except docs/api/.
 *   IH_LANGUAGES_CACHE  cache root (default ~/.cache/cdk8s-identity-health/languages)
 * A second run with unchanged inputs reuses the build. Prints the manifest path at the end; the
 * manifest (languages.json) lists the artifacts (see test/slow/languages/artifacts.ts).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FACADE_PATH, generateFacade, REPO } from './facade';

export const CACHE = process.env.IH_LANGUAGES_CACHE
  ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cdk8s-identity-health', 'languages');
const TOOLCHAIN_SRC = path.join(REPO, 'scripts/languages/toolchain');
/** Where the language packages are published from; one place to change the coordinates. */
export const COORDINATES = {
  python: { distName: 'cdk8s-identity-health', module: 'cdk8s_identity_health' },
  go: { moduleName: 'github.com/cdk8s-identity-health/cdk8s-identity-health-go', packageName: 'cdk8sidentityhealth' },
  java: { package: 'io.github.cdk8s_identity_health', maven: { groupId: 'io.github.cdk8s-identity-health', artifactId: 'cdk8s-identity-health' } },
};
/** The cdk8s packages the language apps use next to ours (their bindings: cdk8sBindings). */
export const CDK8S_PACKAGES = ['cdk8s', 'cdk8s-plus-27'] as const;
export const DOC_LANGUAGES = ['typescript', 'python', 'go', 'java'] as const;

/** What a build produced (languages.json). */
export interface Manifest {
  key: string; version: string; project: string; assembly: string; tarball: string;
  python: { wheel: string; distName: string; module: string };
  go: { dir: string; module: string; package: string; cdk8s: Record<string, { module: string; dir: string; version: string }> };
  java: { jar: string; pom: string; groupId: string; artifactId: string; mavenRepos: string[] };
  cdk8s: Record<string, string>;
  dependencies: Record<string, string>;
  tools: Record<string, string>;
  seconds: { bindings: number; jsii: number; pacmak: number; docs: number };
}

const NODE_MAJOR = process.versions.node.split('.')[0];
const env = {
  ...process.env,
  // jsii's banner about this Node version (the values are the majors to be quiet about).
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: NODE_MAJOR,
  JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: NODE_MAJOR,
  JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION: NODE_MAJOR,
  PIP_CACHE_DIR: path.join(CACHE, 'pip'),
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  MAVEN_OPTS: `${process.env.MAVEN_OPTS ?? ''} -Dmaven.repo.local=${path.join(CACHE, 'm2')}`.trim(),
};

function run(step: string, cmd: string, args: string[], cwd: string, log: string, extraEnv: NodeJS.ProcessEnv = {}): number {
  const start = Date.now();
  const fd = fs.openSync(log, 'a');
  try {
    execFileSync('nice', ['-n', '10', cmd, ...args], { cwd, env: { ...env, ...extraEnv }, stdio: ['ignore', fd, fd] });
  } catch {
    const tail = fs.readFileSync(log, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(`languages: ${step} FAILED (${cmd} ${args.join(' ')} in ${cwd}); last lines of ${log}:\n${tail}`);
  } finally {
    fs.closeSync(fd);
  }
  return Math.round((Date.now() - start) / 100) / 10;
}

const sha = (parts: Array<string | Buffer>): string => {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
};

/** The pinned jsii toolchain, installed once per lockfile into the cache. */
export function toolchain(): string {
  const lock = fs.readFileSync(path.join(TOOLCHAIN_SRC, 'package-lock.json'));
  const dir = path.join(CACHE, `toolchain-${sha([lock])}`);
  if (!fs.existsSync(path.join(dir, '.done'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(TOOLCHAIN_SRC, f), path.join(dir, f));
    console.log(`languages: installing the jsii toolchain into ${dir}`);
    run('toolchain install', 'npm', ['ci', '--no-audit', '--no-fund'], dir, path.join(dir, 'install.log'));
    fs.writeFileSync(path.join(dir, '.done'), '');
  }
  return dir;
}

/** Version of an installed package (the project's node_modules, or the toolchain's). */
const installed = (d: string, root = REPO): string => JSON.parse(fs.readFileSync(path.join(root, 'node_modules', d, 'package.json'), 'utf8')).version;

function projectPackageJson(repoPkg: any): object {
  const deps = ['cdk8s', 'constructs'];
  return {
    name: repoPkg.name,
    version: repoPkg.version,
    description: repoPkg.description,
    license: repoPkg.license,
    author: repoPkg.author ?? { name: 'cdk8s-identity-health contributors', organization: false },
    repository: repoPkg.repository ?? { type: 'git', url: `https://${COORDINATES.go.moduleName.replace(/-go$/, '')}.git` },
    main: `lib/${FACADE_PATH.replace(/\.ts$/, '.js')}`,
    types: `lib/${FACADE_PATH.replace(/\.ts$/, '.d.ts')}`,
    files: ['lib/**/*.js', 'lib/**/*.d.ts', '.jsii', 'README.md'],
    // The assembly's dependencies: the library's peers, same ranges as the npm package; compiled
    // against the project's installed versions.
    peerDependencies: Object.fromEntries(deps.map((d) => [d, repoPkg.peerDependencies[d]])),
    devDependencies: Object.fromEntries(deps.map((d) => [d, installed(d)])),
    jsii: {
      outdir: 'dist',
      tsc: { outDir: 'lib', rootDir: '.' },
      excludeTypescript: ['node_modules', 'dist', 'lib'],
      targets: {
        python: COORDINATES.python,
        go: { moduleName: COORDINATES.go.moduleName, packageName: COORDINATES.go.packageName },
        java: COORDINATES.java,
      },
    },
  };
}

const README = `# cdk8s-identity-health

The strategy mixins of cdk8s-identity-health (Azure identity health checks for pods) for cdk8s apps
in Python, Go and Java: apply one to a workload (\`Strategies.withIdentityProbes(deployment, ...)\`) or
to a whole chart (\`chart.with(new NmiInitCheck(...))\`). The checks, options and their defaults are
described in the project's README and API reference.
`;

/**
 * Go and Java bindings of cdk8s and cdk8s-plus-27 at the project's installed versions, generated by
 * jsii-pacmak from their npm packages, as the cdk8s team does: the Go module proxy and Maven
 * Central reachable here serve neither these versions of cdk8s-core-go / org.cdk8s:cdk8s nor any
 * cdk8s-plus-27 for Go or Java. Same module paths and Maven coordinates as the published ones;
 * Python uses the published PyPI packages. Built once per version set.
 */
export function cdk8sBindings(tools: string): { dir: string; seconds: number; versions: Record<string, string> } {
  const versions = Object.fromEntries(CDK8S_PACKAGES.map((p) => [p, installed(p)]));
  const lock = fs.readFileSync(path.join(TOOLCHAIN_SRC, 'package-lock.json'));
  const dir = path.join(CACHE, `cdk8s-bindings-${sha([JSON.stringify(versions), lock])}`);
  if (fs.existsSync(path.join(dir, '.done'))) return { dir, seconds: 0, versions };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'build.log');
  console.log(`languages: Go and Java bindings of ${Object.entries(versions).map(([p, v]) => `${p}@${v}`).join(', ')} into ${dir} (log: ${log})`);
  const seconds = run('jsii-pacmak (cdk8s, cdk8s-plus-27: go, java)', path.join(tools, 'node_modules/.bin/jsii-pacmak'), [
    ...CDK8S_PACKAGES.map((p) => path.join(REPO, 'node_modules', p)),
    '--targets', 'go', 'java', '--outdir', path.join(dir, 'dist'), '--no-npmignore', '-v',
  ], dir, log, {
    // Only compiled against and run here, never published: no javadoc and sources jars (javadoc is
    // most of a jsii Java build).
    MAVEN_OPTS: `${env.MAVEN_OPTS} -Dmaven.javadoc.skip=true -Dmaven.source.skip=true`,
  });
  fs.writeFileSync(path.join(dir, '.done'), `${seconds}\n`);
  return { dir, seconds, versions };
}

/** docs/api/typescript.md documents the jsii assembly; the npm package spells three things differently. */
const TS_DOC_NOTE = `> The API as other languages see it (generated from the jsii assembly). The npm package has the
> same mixin classes, options, descriptions and defaults, with three differences: \`Strategies.withX(target, options)\`
> is the function \`withX(target, options)\` (generic: it returns \`target\` with its type); enum options are
> string literals (\`onConflict: 'skip'\`, \`client: 'wget'\`, \`scheme: 'HTTPS'\`); \`StrategyMixin\` is \`IdentityHealthMixin\`
> (\`strategyId\` is \`strategy.id\`).
`;

export function build(opts: { docs?: boolean } = {}): { manifest: Manifest; path: string; cached: boolean } {
  const repoPkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const facade = generateFacade();
  const tools = toolchain();
  const pkg = projectPackageJson(repoPkg);
  const lock = fs.readFileSync(path.join(TOOLCHAIN_SRC, 'package-lock.json'));
  const key = sha([
    facade.source, JSON.stringify(pkg), lock, README,
    ...facade.files.flatMap((f) => [f, fs.readFileSync(path.join(REPO, f))]),
    fs.readFileSync(__filename), fs.readFileSync(path.join(__dirname, 'facade.ts')),
    fs.existsSync(path.join(REPO, 'LICENSE')) ? fs.readFileSync(path.join(REPO, 'LICENSE')) : '',
  ]);
  const dir = path.join(CACHE, `build-${key}`);
  const manifestPath = path.join(CACHE, 'languages.json');
  const done = path.join(dir, 'languages.json');
  if (fs.existsSync(done)) {
    fs.copyFileSync(done, manifestPath);
    const manifest: Manifest = JSON.parse(fs.readFileSync(done, 'utf8'));
    if (opts.docs) copyDocs(manifest);
    return { manifest, path: manifestPath, cached: true };
  }
  const bin = (t: string) => path.join(tools, 'node_modules/.bin', t);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of facade.files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  }
  fs.writeFileSync(path.join(dir, FACADE_PATH), facade.source);
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'README.md'), README);
  if (fs.existsSync(path.join(REPO, 'LICENSE'))) fs.copyFileSync(path.join(REPO, 'LICENSE'), path.join(dir, 'LICENSE'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  const bindings = cdk8sBindings(tools);
  // pacmak builds the Go module and the jar against local copies of the cdk8s bindings it finds in
  // its output directory (a replace directive, a local Maven repository).
  fs.cpSync(path.join(bindings.dir, 'dist/go/cdk8s'), path.join(dir, 'dist/go/cdk8s'), { recursive: true });
  const log = path.join(dir, 'build.log');
  console.log(`languages: building in ${dir} (log: ${log})`);
  const seconds = {
    bindings: bindings.seconds,
    jsii: run('jsii compile', bin('jsii'), [], dir, log),
    pacmak: run('jsii-pacmak (python, go, java)', bin('jsii-pacmak'), ['--targets', 'python', 'go', 'java', 'js', '--no-npmignore', '-v'], dir, log),
    docs: 0,
  };
  const docsStart = Date.now();
  fs.mkdirSync(path.join(dir, 'docs'), { recursive: true });
  for (const l of DOC_LANGUAGES) run(`jsii-docgen (${l})`, bin('jsii-docgen'), ['-l', l, '-o', `docs/${l}.md`], dir, log);
  const ts = path.join(dir, 'docs/typescript.md');
  fs.writeFileSync(ts, `${TS_DOC_NOTE}\n${fs.readFileSync(ts, 'utf8')}`);
  seconds.docs = Math.round((Date.now() - docsStart) / 100) / 10;

  const dist = path.join(dir, 'dist');
  const one = (d: string, re: RegExp) => {
    const hit = fs.readdirSync(d).filter((f) => re.test(f));
    if (hit.length !== 1) throw new Error(`languages: expected one ${re} in ${d}, found ${hit.join(', ') || 'none'}`);
    return path.join(d, hit[0]);
  };
  const javaDir = path.join(dist, 'java', ...COORDINATES.java.maven.groupId.split('.'), COORDINATES.java.maven.artifactId, repoPkg.version);
  const manifest: Manifest = {
    key, version: repoPkg.version, project: dir,
    assembly: path.join(dir, '.jsii'),
    tarball: one(path.join(dist, 'js'), /\.tgz$/),
    python: { wheel: one(path.join(dist, 'python'), /\.whl$/), ...COORDINATES.python },
    go: {
      dir: path.join(dist, 'go', COORDINATES.go.packageName), module: `${COORDINATES.go.moduleName}/${COORDINATES.go.packageName}`, package: COORDINATES.go.packageName,
      cdk8s: Object.fromEntries(CDK8S_PACKAGES.map((p) => {
        const goPkg = p.replace(/-/g, '');
        const mod = fs.readFileSync(path.join(bindings.dir, 'dist/go', goPkg, 'go.mod'), 'utf8').match(/^module (\S+)/m)![1];
        return [p, { module: mod, dir: path.join(bindings.dir, 'dist/go', goPkg), version: bindings.versions[p] }];
      })),
    },
    java: {
      jar: path.join(javaDir, `${COORDINATES.java.maven.artifactId}-${repoPkg.version}.jar`),
      pom: path.join(javaDir, `${COORDINATES.java.maven.artifactId}-${repoPkg.version}.pom`),
      ...COORDINATES.java.maven,
      mavenRepos: [path.join(dist, 'java'), path.join(bindings.dir, 'dist/java')],
    },
    cdk8s: bindings.versions,
    dependencies: (pkg as any).peerDependencies,
    tools: Object.fromEntries(['jsii', 'jsii-pacmak', 'jsii-docgen', 'jsii-rosetta'].map((t) => [t, installed(t, tools)])),
    seconds,
  };
  fs.writeFileSync(done, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.copyFileSync(done, manifestPath);
  prune('build-', dir);
  if (opts.docs) copyDocs(manifest);
  return { manifest, path: manifestPath, cached: false };
}

/** Keeps the newest two builds of a kind (each source change makes a new one). */
function prune(prefix: string, keep: string): void {
  const old = fs.readdirSync(CACHE).filter((d) => d.startsWith(prefix) && path.join(CACHE, d) !== keep)
    .map((d) => path.join(CACHE, d)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs).slice(1);
  for (const d of old) fs.rmSync(d, { recursive: true, force: true });
}

/** docs/api/<language>.md from the build. */
export function copyDocs(m: Manifest): void {
  fs.mkdirSync(path.join(REPO, 'docs/api'), { recursive: true });
  for (const l of DOC_LANGUAGES) fs.copyFileSync(path.join(m.project, 'docs', `${l}.md`), path.join(REPO, 'docs/api', `${l}.md`));
}

if (require.main === module) {
  try {
    const r = build({ docs: process.argv.includes('--docs') });
    const m = r.manifest;
    console.log(`languages: ${r.cached ? 'reused' : 'built'} ${m.project}`);
    console.log(`  python wheel  ${m.python.wheel}\n  go module     ${m.go.dir} (${m.go.module})\n  java jar      ${m.java.jar}`);
    console.log(`  manifest      ${r.path}`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
