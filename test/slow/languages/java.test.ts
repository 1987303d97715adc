/**
 * Java: apps/java (a Maven project using the generated jar with org.cdk8s:cdk8s and
 * org.cdk8s:cdk8s-plus-27) synthesizes the TypeScript app's YAML and reports the same conflict message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APPS, CACHE, manifest, Outputs, outputs, reference, run, sameAsTypeScript, satisfies, tmp } from './artifacts';

describe('Maven jar', () => {
  const m = manifest();
  let app: string;
  let classpath: string[];
  let ref: Outputs;
  let lang: Outputs;

  beforeAll(() => {
    ref = reference();
    app = tmp('java-app');
    fs.cpSync(path.join(APPS, 'java'), app, { recursive: true });
    run('nice', ['-n', '10', 'mvn', '-q', '-B', `-Dmaven.repo.local=${path.join(CACHE, 'm2')}`,
      `-Dih.repo=${m.java.mavenRepos[0]}`, `-Dih.cdk8s.repo=${m.java.mavenRepos[1]}`, `-Dih.version=${m.version}`,
      // The TypeScript app's versions (the project's node_modules).
      `-Dcdk8s.version=${m.cdk8s.cdk8s}`, `-Dcdk8s-plus-27.version=${m.cdk8s['cdk8s-plus-27']}`,
      'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${path.join(app, 'classpath.txt')}`], { cwd: app });
    classpath = [path.join(app, 'target/classes'), ...fs.readFileSync(path.join(app, 'classpath.txt'), 'utf8').trim().split(':')];
    lang = outputs('java', (out, mode) => run('java', ['-cp', classpath.join(':'), 'example.Main', out, ...(mode ? [mode] : [])]));
  });

  it('resolves cdk8s and constructs versions that satisfy the assembly\'s dependencies', () => {
    const jar = (artifact: string) => classpath.map((p) => path.basename(p)).find((b) => new RegExp(`^${artifact}-\\d`).test(b))?.replace(/^.*-(\d[^-]*)\.jar$/, '$1') ?? '';
    for (const [dep, range] of Object.entries(m.dependencies)) expect(satisfies(jar(dep), range), `${dep} ${jar(dep)} vs ${range}`).toBe(true);
    expect(jar('cdk8s')).toBe(m.cdk8s.cdk8s);
    expect(jar('cdk8s-plus-27')).toBe(m.cdk8s['cdk8s-plus-27']);
    expect(jar(m.java.artifactId)).toBe(m.version);
  });

  sameAsTypeScript(() => ({ lang, ref }));
});
