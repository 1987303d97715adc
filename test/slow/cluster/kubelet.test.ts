/**
 * Stretch: a real kubelet (with containerd and runc from Debian) runs a pod with
 * `identity-health apply --strategy nmi-probes` against the real NMI, and the times kubelet
 * shows are set beside the behaviour runner's (docs/behaviour.md, "Detection latency").
 * One pod, one run of each transition: a sample, not a distribution.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as YAML from 'yaml';
import { docs, run } from '../../cli/helpers';
import { engine } from '../engines';
import { installPodIdentityCrds } from './aad-pod-identity';
import { Cluster, eventually, startCluster } from './cluster';
import { IMAGE, Node, NODE_IP, NODE_NAME, processes, startNode } from './node';

let cluster: Cluster;
let node: Node;
const nmi = engine('nmi');

beforeAll(async () => {
  cluster = await startCluster();
  node = await startNode(cluster);
  console.log(`cluster suite (kubelet) on: ${Object.entries({ ...cluster.versions, ...node.versions }).map(([k, v]) => `${k} ${v}`).join(', ')}, aad-pod-identity NMI ${nmi.version}`);
  expect((await cluster.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).status).toBe(201);
  await installPodIdentityCrds(cluster);
});
afterAll(async () => {
  await node?.stop();
  await cluster?.stop();
});

const pod = async () => (await cluster.request('GET', '/api/v1/namespaces/default/pods/app')).body;
const ready = (p: any) => p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True';
const restarts = (p: any) => p.status?.containerStatuses?.[0]?.restartCount ?? 0;
const nmiHealth = () => spawnSync('ip', ['netns', 'exec', cluster.netns, 'curl', '-sS', '--max-time', '1', `http://${NODE_IP}:8085/healthz`], { encoding: 'utf8' }).stdout;

describe(`real kubelet runs nmi-probes against the real NMI ${nmi.version}`, () => {
  it('not Ready while NMI is absent (the check runs in the container); Ready once NMI is Active; NotReady and restarted when NMI dies', async () => {
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', labels: { app: 'app', aadpodidbinding: 'app-id' } },
      spec: { nodeName: NODE_NAME, automountServiceAccountToken: false, containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'Never',
        // An app that stops on SIGTERM: the restart time is then the check's, not terminationGracePeriodSeconds (30 s) of an app ignoring it.
        command: ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'] }] } };
    const r = run(['apply', '--strategy', 'nmi-probes', '--client', 'wget', '--quiet', '-'], { input: YAML.stringify(bare) });
    expect(r.code, r.stderr).toBe(0);
    expect((await cluster.create(docs(r.stdout)[0])).status).toBe(201);

    // Kubelet runs our startup probe in the container: its message reaches the pod's events.
    const events = await eventually('startup probe event', 60_000, async () => (await cluster.request('GET', '/api/v1/namespaces/default/events')).body.items ?? [],
      (items: any[]) => items.some((e) => e.reason === 'Unhealthy' && /identity-health: NMI http:\/\/10\.0\.0\.10:8085\/healthz unreachable/.test(e.message)));
    console.log(`kubelet event: ${events.find((e: any) => e.reason === 'Unhealthy').message}`);
    expect(ready(await pod())).toBe(false);

    const kubeletConfig = path.join(cluster.dir, 'kubelet-default');
    fs.writeFileSync(kubeletConfig, 'KUBELET_FLAGS=--network-plugin=cni\n');
    const proc = cluster.spawnIn('nmi', [nmi.bin, `--node=${NODE_NAME}`, '--http-probe-port=8085', '--operation-mode=standard', `--kubelet-config=${kubeletConfig}`], { KUBECONFIG: cluster.kubeconfig });
    await eventually('NMI Active', 60_000, async () => {
      if (proc.exitCode !== null) throw new Error(`NMI exited ${proc.exitCode}: ${fs.readFileSync(path.join(cluster.dir, 'nmi.log'), 'utf8').slice(-2000)}`);
      return nmiHealth();
    }, (b) => b === 'Active');
    const tActive = Date.now();
    await eventually('pod Ready', 60_000, pod, ready);
    const toReady = (Date.now() - tActive) / 1000;

    proc.kill('SIGKILL');
    const tKill = Date.now();
    const restartsBefore = restarts(await pod());
    await eventually('pod NotReady after NMI died', 60_000, pod, (p) => !ready(p));
    const toNotReady = (Date.now() - tKill) / 1000;
    await eventually('container restarted after NMI died', 120_000, pod, (p) => restarts(p) > restartsBefore);
    const toRestart = (Date.now() - tKill) / 1000;
    console.log(`real kubelet, nmi-probes: NMI Active -> Ready ${toReady.toFixed(1)} s; NMI killed -> NotReady ${toNotReady.toFixed(1)} s, -> restart ${toRestart.toFixed(1)} s`
      + ' (behaviour runner, npm run bench: NotReady worst 7.2 s / median 5.6 s, restart worst 29.1 s / median 24.6 s)');
    // Bounds from the probe settings (readiness 2 x 4 s + a 3 s timeout; liveness 3 x 10 s + 3 s), with kubelet's status reporting on top.
    expect(toReady).toBeLessThan(10);
    expect(toNotReady).toBeLessThan(16);
    expect(toRestart).toBeLessThan(50);
  });
});

describe('real kubelet projects the probe script from the pod annotation', () => {
  // Kubelet projects an absent annotation as an empty file, and `sh <empty file>` passes: the
  // probe's guard must fail it instead, saying why (src/pod-template/pieces.ts: PROBE_FILE_RUNNER).
  it('without the annotation the pod starts, and every probe fails with the guard\'s message', async () => {
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'noscript', labels: { app: 'noscript', aadpodidbinding: 'app-id' } },
      spec: { nodeName: NODE_NAME, automountServiceAccountToken: false, containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'Never',
        command: ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'] }] } };
    const r = run(['apply', '--strategy', 'nmi-probes', '--client', 'wget', '--quiet', '-'], { input: YAML.stringify(bare) });
    expect(r.code, r.stderr).toBe(0);
    const p = docs(r.stdout)[0];
    expect(p.metadata.annotations['identity-health.io/nmi-probes-script']).toContain('nmi() {');
    delete p.metadata.annotations['identity-health.io/nmi-probes-script'];
    expect((await cluster.create(p)).status).toBe(201);
    const events = await eventually('guard event', 60_000, async () => (await cluster.request('GET', '/api/v1/namespaces/default/events')).body.items ?? [],
      (items: any[]) => items.some((e) => e.involvedObject?.name === 'noscript' && e.reason === 'Unhealthy'));
    const msg = events.find((e: any) => e.involvedObject?.name === 'noscript' && e.reason === 'Unhealthy').message;
    console.log(`kubelet event without the annotation: ${msg}`);
    expect(msg).toMatch(/identity-health: \/etc\/identity-health\/nmi-probes\/probe\.sh is missing or empty/);
    const noscript = (await cluster.request('GET', '/api/v1/namespaces/default/pods/noscript')).body;
    expect(noscript.status.conditions.find((c: any) => c.type === 'Ready')?.status).not.toBe('True');
  });
});

describe('teardown', () => {
  it('stopping the node leaves none of its processes running (containerd shims and the containers they run outlive containerd)', async () => {
    const sock = path.join(cluster.dir, 'containerd.sock');
    const running = () => processes().filter((p) => !p.zombie && p.argv.includes(sock)).map((p) => p.pid);
    expect(running().length, 'the pods run under shims of this node').toBeGreaterThan(0);
    await node.stop();
    expect(running()).toEqual([]);
  });
});
