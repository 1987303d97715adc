/** The example cdk8s app (main.ts): one chart per strategy, valid, and dist/ is what it synthesizes now. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { STRATEGY_IDS, WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../src';
import type { KubeObject } from '../../src/pod-template/types';
import { validateK8s } from './helpers';

const ROOT = path.resolve(__dirname, '../..');

describe('example app', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ih-synth-'));
  execFileSync(process.execPath, [path.join(ROOT, 'lib/main.js')], { cwd: ROOT, env: { ...process.env, CDK8S_OUTDIR: out } });

  it.each([...STRATEGY_IDS, ...WORKLOAD_IDENTITY_STRATEGY_IDS])('%s chart validates and matches the committed dist/', (id) => {
    const file = `${id}.k8s.yaml`;
    const text = fs.readFileSync(path.join(out, file), 'utf8');
    const docs = parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) validateK8s(d);
    const workload = docs.find((d) => d.kind === 'Deployment')!;
    expect((workload.spec as any).template.metadata.annotations['identity-health.io/strategies']).toBe(id);
    expect(text, 'dist/ is stale: run "npm run synth" and commit dist/').toBe(fs.readFileSync(path.join(ROOT, 'dist', file), 'utf8'));
  });
});
