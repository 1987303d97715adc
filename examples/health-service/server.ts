/**
 * Example service for strategies 9, 3 and 6: kubelet's httpGet probes call /readyz and /livez,
 * which check workload identity (webhook env, federated token file, optionally the proxy sidecar
 * and the AAD exchange), or, on clusters still on pod identity, NMI (and a token request), with
 * the settings the strategy put in the env.
 *
 *   node lib/examples/health-service/server.js      (env PORT default 8080, HOST default 0.0.0.0)
 */
import http from 'node:http';
import { createHealthHandlers, fromEnv } from '../../src/runtime';

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '0.0.0.0';

// Options come from the manifest (IDENTITY_HEALTH_*, HOST_IP or the webhook's AZURE_*); a bad value stops the start.
// An app with an Azure SDK passes its own credential, so the check takes the app's path:
//   createHealthHandlers({ ...fromEnv(), log, credential: new WorkloadIdentityCredential() })
// (this example has no SDK: it makes the module's own standard-library requests).
const health = createHealthHandlers({ ...fromEnv(), log });

const server = http.createServer((req, res) => {
  if (health.handle(req, res)) return;
  if (req.url === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('identity-health example service\n');
    return;
  }
  res.statusCode = 404;
  res.end('not found\n');
});

server.listen(port, host, () => {
  const a = server.address();
  const actual = a && typeof a === 'object' ? a.port : port;
  log(`health-service listening on http://${host}:${actual} (check ${health.health.kind}; /readyz, /livez)`);
});

// Stop promptly on SIGTERM (kubelet, tests): stop accepting, close idle sockets, exit.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
