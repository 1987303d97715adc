/**
 * The Azure Workload Identity mutating webhook (built from upstream, its own
 * MutatingWebhookConfiguration with only clientConfig pointed at loopback) registered with a real
 * kube-apiserver. Our synthesized workload identity workloads' pods (dist/, `npm run synth`) are
 * created through the server, and the mutation strategies 7-9 rely on is checked on what the
 * server stored: the four AZURE_* variables in every container (ours included), the projected
 * token volume and its mount, label and ServiceAccount annotation semantics, and failurePolicy
 * Fail while the webhook is down. The probe check then runs against a token the server issued
 * for the projected volume's audience.
 */
import { ChildProcess, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { WORKLOAD_IDENTITY_STRATEGY_IDS } from '../../../strategies/types';
import { hostProbeArgv } from '../../bed/runner';
import { ROOT } from '../../cli/helpers';
import { engine } from '../engines';
import { Cluster, eventually, startCluster } from './cluster';

// Upstream v1.6: pkg/webhook/consts.go (VolumeMountPath, TokenFilePath, ProjectedVolumeNamePrefix) of
// github.com/Azure/azure-workload-identity. Older releases mounted /var/run/secrets/azure/tokens:
// the checks read the path from AZURE_FEDERATED_TOKEN_FILE, never a fixed one.
const TOKEN_DIR = '/var/run/secrets/azure/wi';
const TOKEN_FILE = `${TOKEN_DIR}/token/azure-identity-token`;
const VOLUME_PREFIX = 'azure-workload-identity-reserved-';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const USE = 'azure.workload.identity/use';
const CLIENT_ID_ANN = 'azure.workload.identity/client-id';

let cluster: Cluster;
let webhook: ChildProcess;
const wh = engine('azwi-webhook');
const whLogs = () => fs.readFileSync(path.join(cluster.dir, 'azwi-webhook.log'), 'utf8').split('\n').slice(-20).join('\n');

function inNetns(argv: string[]): { code: number; out: string } {
  const [cmd, ...args] = cluster.wrap(argv);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

async function startWebhook(): Promise<void> {
  const certDir = path.join(cluster.dir, 'webhook-certs');
  fs.mkdirSync(certDir, { recursive: true });
  const [crt, key] = cluster.issueCert('azwi-webhook');
  fs.copyFileSync(crt, path.join(certDir, 'tls.crt'));
  fs.copyFileSync(key, path.join(certDir, 'tls.key'));
  webhook = cluster.spawnIn('azwi-webhook', [wh.bin, '--disable-cert-rotation', '--webhook-cert-dir', certDir,
    '--health-addr', '127.0.0.1:9440', '--metrics-addr', '127.0.0.1:8095', '--log-level', 'debug'],
  { KUBECONFIG: cluster.kubeconfig, AZURE_TENANT_ID: TENANT, AZURE_ENVIRONMENT: 'AzurePublicCloud' });
  await eventually('webhook /readyz', 60_000, async () => {
    if (webhook.exitCode !== null) throw new Error(`webhook exited ${webhook.exitCode}:\n${whLogs()}`);
    return inNetns(['curl', '-fsS', '--max-time', '2', 'http://127.0.0.1:9440/readyz']).code;
  }, (c) => c === 0);
}

async function stopWebhook(): Promise<void> {
  webhook.kill('SIGKILL');
  await new Promise((r) => (webhook.exitCode !== null || webhook.signalCode !== null ? r(null) : webhook.once('exit', r)));
}

const docsOf = (file: string): any[] => YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS());

/** The Pod the ReplicaSet controller would create from a Deployment's template. */
function podOf(deploy: any, name: string): any {
  const t = deploy.spec.template;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: t.metadata.labels, annotations: t.metadata.annotations }, spec: t.spec };
}

const envOf = (c: any) => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));
const allContainers = (pod: any) => [...(pod.spec.initContainers ?? []), ...pod.spec.containers];

beforeAll(async () => {
  cluster = await startCluster();
  console.log(`cluster suite (workload identity webhook) on: ${Object.entries(cluster.versions).map(([k, v]) => `${k} ${v}`).join(', ')}, azure-workload-identity webhook ${wh.version}`);
  await startWebhook();
  // Upstream's own MutatingWebhookConfiguration, only clientConfig changed (served on loopback with our CA).
  const mwc = docsOf(path.join(path.dirname(wh.bin), 'azure-wi-webhook.yaml')).find((d) => d?.kind === 'MutatingWebhookConfiguration');
  expect(mwc.webhooks[0].failurePolicy).toBe('Fail');
  for (const w of mwc.webhooks) w.clientConfig = { url: 'https://127.0.0.1:9443/mutate-v1-pod', caBundle: fs.readFileSync(cluster.caFile).toString('base64') };
  const res = await cluster.create(mwc);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
});
afterAll(async () => { await cluster?.stop(); });

describe.each(WORKLOAD_IDENTITY_STRATEGY_IDS)('%s (dist/) through kube-apiserver with the workload identity webhook', (id) => {
  it('the webhook gives every container the env, volume and mount the check relies on, and the check passes on a token the server issued', async () => {
    const ns = id;
    expect((await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
    const [sa, deploy] = docsOf(path.join(ROOT, 'dist', `${id}.k8s.yaml`));
    expect(sa.kind).toBe('ServiceAccount');
    expect((await cluster.create(sa, { namespace: ns })).status).toBe(201);
    expect((await cluster.create(deploy, { namespace: ns })).status).toBe(201);
    // The first pod may race the webhook's ServiceAccount cache: upstream retries through the API reader.
    const res = await cluster.create(podOf(deploy, 'pod-1'), { namespace: ns });
    expect(res.status, `${JSON.stringify(res.body.message)}\n${whLogs()}`).toBe(201);
    const pod = res.body;

    const clientId = sa.metadata.annotations[CLIENT_ID_ANN];
    const vol = pod.spec.volumes.find((v: any) => v.name.startsWith(VOLUME_PREFIX));
    expect(vol, JSON.stringify(pod.spec.volumes)).toBeDefined();
    expect(vol.projected.sources).toContainEqual({ serviceAccountToken: { path: 'token/azure-identity-token', audience: 'api://AzureADTokenExchange', expirationSeconds: 3600 } });
    for (const c of allContainers(pod)) {
      expect(envOf(c), `container ${c.name}`).toMatchObject({
        AZURE_CLIENT_ID: clientId, AZURE_TENANT_ID: TENANT, AZURE_FEDERATED_TOKEN_FILE: TOKEN_FILE, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
      });
      // The file the env names is the projected token: mounted from that volume, in every container (our init container too).
      expect(c.volumeMounts, `container ${c.name}`).toContainEqual({ name: vol.name, mountPath: TOKEN_DIR, readOnly: true });
    }
    if (id === WORKLOAD_IDENTITY_STRATEGY_IDS[0]) console.log(`webhook mutation: env ${JSON.stringify(envOf(pod.spec.containers[0]))}, volume ${JSON.stringify(vol)}`);
    // The check itself reads exactly these names: what it tests is what the webhook sets.
    const probeFiles = fs.mkdtempSync(path.join(cluster.dir, 'probe-'));
    const script = allContainers(deploy.spec.template).flatMap((c: any) => [c.command, c.readinessProbe?.exec && hostProbeArgv(deploy.spec.template, c, c.readinessProbe.exec.command, probeFiles)])
      .flat().filter(Boolean).map((a: string) => (a.startsWith(probeFiles) ? fs.readFileSync(a, 'utf8') : a)).join('\n');
    const runtimeCheck = allContainers(deploy.spec.template).some((c: any) => envOf(c).IDENTITY_HEALTH_CHECK === 'workload-identity');
    expect(runtimeCheck || ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST'].every((n) => script.includes(n))).toBe(true);

    if (id === 'workload-identity-probes') {
      // The readiness check against a token the API server issues for the projected volume (TokenRequest, as kubelet asks).
      const tr = await cluster.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa.metadata.name}/token`,
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['api://AzureADTokenExchange'], expirationSeconds: 3600 } });
      expect(tr.status).toBe(201);
      const app = pod.spec.containers.find((c: any) => c.readinessProbe?.exec);
      const tokenDir = fs.mkdtempSync(path.join(cluster.dir, 'tokens-'));
      const stateDir = fs.mkdtempSync(path.join(cluster.dir, 'state-'));
      fs.writeFileSync(path.join(tokenDir, 'azure-identity-token'), tr.body.status.token);
      const env = { ...envOf(app), AZURE_FEDERATED_TOKEN_FILE: path.join(tokenDir, 'azure-identity-token') };
      const [sh, c, body, ...args] = hostProbeArgv(pod, app, app.readinessProbe.exec.command, fs.mkdtempSync(path.join(cluster.dir, 'probe-')));
      const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mkdir -p /var/run/identity-health && mount --bind "$0" /var/run/identity-health && exec "$@"', stateDir, sh, c, body, ...args],
        { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      fs.writeFileSync(path.join(tokenDir, 'azure-identity-token'), '');
      const empty = spawnSync('unshare', ['-m', 'sh', '-c', 'mkdir -p /var/run/identity-health && mount --bind "$0" /var/run/identity-health && exec "$@"', stateDir, sh, c, body, ...args],
        { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });
      expect(empty.status).toBe(1);
      expect(empty.stdout).toContain('is empty');
    }
  });
});

describe('label and ServiceAccount annotation semantics, failurePolicy', () => {
  const ns = 'semantics';
  const pod = (name: string, labels: Record<string, string>, sa: string, annotations: Record<string, string> = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels, annotations },
    spec: { serviceAccountName: sa, automountServiceAccountToken: false, containers: [{ name: 'app', image: 'example/app:1' }] },
  });
  beforeAll(async () => {
    expect((await cluster.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
    for (const [name, annotations] of [['annotated', { [CLIENT_ID_ANN]: '11111111-1111-1111-1111-111111111111', 'azure.workload.identity/tenant-id': '22222222-2222-2222-2222-222222222222' }], ['plain', {}]] as const) {
      expect((await cluster.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, annotations } }, { namespace: ns })).status).toBe(201);
    }
  });

  it('only pods labelled azure.workload.identity/use: "true" are mutated; the label on the ServiceAccount alone does nothing', async () => {
    const unlabelled = await cluster.create(pod('unlabelled', {}, 'annotated'), { namespace: ns });
    expect(unlabelled.status).toBe(201);
    expect(envOf(unlabelled.body.spec.containers[0]).AZURE_CLIENT_ID).toBeUndefined();
    const wrongValue = await cluster.create(pod('label-yes', { [USE]: 'yes' }, 'annotated'), { namespace: ns });
    expect(envOf(wrongValue.body.spec.containers[0]).AZURE_CLIENT_ID).toBeUndefined();
    const labelled = await cluster.create(pod('labelled', { [USE]: 'true' }, 'annotated'), { namespace: ns });
    expect(envOf(labelled.body.spec.containers[0])).toMatchObject({ AZURE_CLIENT_ID: '11111111-1111-1111-1111-111111111111', AZURE_TENANT_ID: '22222222-2222-2222-2222-222222222222' });
  });

  it('a ServiceAccount without client-id: the pod is still mutated but gets no AZURE_CLIENT_ID at all (the check reports it unset)', async () => {
    const res = await cluster.create(pod('no-client-id', { [USE]: 'true' }, 'plain'), { namespace: ns });
    expect(res.status).toBe(201);
    const env = envOf(res.body.spec.containers[0]);
    console.log(`webhook, ServiceAccount without client-id: env ${JSON.stringify(env)}`);
    expect(env.AZURE_CLIENT_ID).toBeUndefined();
    expect(env).toMatchObject({ AZURE_TENANT_ID: TENANT, AZURE_FEDERATED_TOKEN_FILE: TOKEN_FILE });
  });

  it('the pod annotation azure.workload.identity/skip-containers leaves the named container (e.g. our check) unmutated', async () => {
    const p = pod('skip', { [USE]: 'true' }, 'annotated', { 'azure.workload.identity/skip-containers': 'identity-health-check' });
    (p.spec as any).initContainers = [{ name: 'identity-health-check', image: 'example/check:1' }];
    const res = await cluster.create(p, { namespace: ns });
    expect(res.status).toBe(201);
    expect(envOf(res.body.spec.initContainers[0]).AZURE_CLIENT_ID).toBeUndefined();
    expect(envOf(res.body.spec.containers[0]).AZURE_CLIENT_ID).toBe('11111111-1111-1111-1111-111111111111');
  });

  it('failurePolicy Fail: with the webhook down a labelled pod is refused by the server, an unlabelled one admitted', async () => {
    await stopWebhook();
    const refused = await cluster.create(pod('while-down', { [USE]: 'true' }, 'annotated'), { namespace: ns });
    expect(refused.status).toBe(500);
    expect(refused.body.message).toContain('mutation.azure-workload-identity.io');
    console.log(`webhook down, server message: ${refused.body.message}`);
    const other = await cluster.create(pod('unlabelled-while-down', {}, 'annotated'), { namespace: ns });
    expect(other.status).toBe(201);
  });
});
