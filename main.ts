/**
 * Example cdk8s app: one chart per strategy, each with a cdk8s-plus Deployment. First the three
 * for Azure AD Workload Identity (what clusters run now), then the six for clusters still on AAD
 * Pod Identity (deprecated 2022-10-24, archived 2023-10-02) and for the time of a migration.
 * `npm run synth` (cdk8s synth) writes dist/<strategy>.k8s.yaml.
 */
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  withIdentityAppHealthCheck, withIdentityInitCheck, withIdentityProbes,
  withNmiAppHealthCheck, withNmiInitCheck, withNmiProbes,
  withWorkloadIdentityAppHealthCheck, withWorkloadIdentityInitCheck, withWorkloadIdentityProbes,
} from './src';

const app = new App({ outputFileExtension: '.k8s.yaml' });
/** Image of the example health service (examples/health-service) used by strategies 3 and 6. */
const healthServiceImage = process.env.HEALTH_SERVICE_IMAGE ?? 'example.azurecr.io/identity-health-service:0.1.0';
const binding = 'orders-identity';

function chartWith(id: string, image: string, port: number, apply: (d: kplus.Deployment, chart: Chart) => void): void {
  const chart = new Chart(app, id, { disableResourceNameHashes: true });
  // Workload identity reads the client id from the pod's ServiceAccount annotation.
  const serviceAccount = id.startsWith('workload-identity') ? new kplus.ServiceAccount(chart, 'orders-sa', { metadata: { name: 'orders' } }) : undefined;
  const deployment = new kplus.Deployment(chart, 'orders', {
    replicas: 2,
    serviceAccount,
    containers: [{
      name: 'app', image, portNumber: port,
      securityContext: { user: 10001, group: 10001 },
    }],
  });
  apply(deployment, chart);
}

// The app image has sh, curl and base64 (the probe strategies 2, 5 and 8 run their checks in it).
const appImage = 'curlimages/curl:8.11.1';

// Azure AD Workload Identity: applied to the chart, so the ServiceAccount gets the client-id annotation.
const clientId = '00000000-0000-0000-0000-000000000000';
chartWith('workload-identity-init', appImage, 8080, (_d, chart) => withWorkloadIdentityInitCheck(chart, { clientId }));
chartWith('workload-identity-probes', appImage, 8080, (_d, chart) => withWorkloadIdentityProbes(chart, { clientId }));
chartWith('workload-identity-app-check', healthServiceImage, 8080, (_d, chart) => withWorkloadIdentityAppHealthCheck(chart, { clientId }));

// AAD Pod Identity, for clusters still on it and during migration (NMI chart >= 1.6.2: health port 8085).
chartWith('nmi-init', appImage, 8080, (d) => withNmiInitCheck(d, { podIdentityBinding: binding }));
chartWith('nmi-probes', appImage, 8080, (d) => withNmiProbes(d, { podIdentityBinding: binding }));
chartWith('nmi-app-check', healthServiceImage, 8080, (d) => withNmiAppHealthCheck(d, { podIdentityBinding: binding }));
chartWith('identity-init', appImage, 8080, (d) => withIdentityInitCheck(d, { podIdentityBinding: binding, resource: 'https://vault.azure.net' }));
chartWith('identity-probes', appImage, 8080, (d) => withIdentityProbes(d, { podIdentityBinding: binding, resource: 'https://vault.azure.net' }));
chartWith('identity-app-check', healthServiceImage, 8080, (d) => withIdentityAppHealthCheck(d, { podIdentityBinding: binding, resource: 'https://vault.azure.net' }));

app.synth();
