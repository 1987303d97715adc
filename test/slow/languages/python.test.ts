/**
 * Python: the wheel, installed with the published cdk8s and cdk8s-plus-27 PyPI packages into a
 * fresh virtualenv, runs apps/python/main.py; its YAML and its conflict error equal the TypeScript app's.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APPS, manifest, Outputs, outputs, reference, run, sameAsTypeScript, satisfies, tmp } from './artifacts';

describe('Python package', () => {
  const m = manifest();
  let python: string;
  let ref: Outputs;
  let lang: Outputs;

  beforeAll(() => {
    ref = reference();
    const venv = tmp('venv');
    run('python3', ['-m', 'venv', venv]);
    python = path.join(venv, 'bin/python');
    // The same cdk8s and cdk8s-plus-27 versions as the TypeScript app (the project's node_modules).
    run(python, ['-m', 'pip', 'install', '-q', m.python.wheel, `cdk8s==${m.cdk8s.cdk8s}`, `cdk8s-plus-27==${m.cdk8s['cdk8s-plus-27']}`]);
    lang = outputs('python', (out, mode) => run(python, [path.join(APPS, 'python/main.py'), out, ...(mode ? [mode] : [])]));
  });

  it('installs next to cdk8s and constructs versions that satisfy the assembly\'s dependencies', () => {
    const list: Array<{ name: string; version: string }> = JSON.parse(run(python, ['-m', 'pip', 'list', '--format=json']));
    const installed = Object.fromEntries(list.map((p) => [p.name.toLowerCase(), p.version]));
    expect(installed[m.python.distName]).toBe(m.version);
    for (const [dep, range] of Object.entries(m.dependencies)) {
      expect(satisfies(installed[dep], range), `${dep} ${installed[dep]} vs ${range}`).toBe(true);
    }
    expect(installed.cdk8s).toBe(m.cdk8s.cdk8s);
    expect(installed['cdk8s-plus-27']).toBe(m.cdk8s['cdk8s-plus-27']);
  });

  sameAsTypeScript(() => ({ lang, ref }));
});
