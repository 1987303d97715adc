/** aad-pod-identity's own CRDs (upstream config/crd, copied by the setup step), installed and Established: NMI's informers wait for them. */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import * as YAML from 'yaml';
import { engine } from '../engines';
import { Cluster, eventually } from './cluster';

export async function installPodIdentityCrds(cluster: Cluster): Promise<void> {
  const file = path.join(path.dirname(engine('nmi').bin), 'aadpodidentity.k8s.io.yaml');
  for (const crd of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean)) {
    const res = await cluster.create(crd);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await eventually(`CRD ${crd.metadata.name} established`, 30_000,
      () => cluster.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`),
      (r) => r.body.status?.conditions?.some((c: any) => c.type === 'Established' && c.status === 'True'));
  }
}
