/**
 * For vitest suites that point @azure/identity's ManagedIdentityCredential at the NMI/IMDS stand-in:
 * starts it on loopback before the suite, points MSAL's pod identity endpoint variable
 * (AZURE_POD_IDENTITY_AUTHORITY_HOST) at it, sets `state` before each test, restores both after.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { ManagedIdentity, Mock, MockState, startMock } from './bed';

/** Another user-assigned identity bound to the pod and on the node (a selector must tell them apart). */
export const OTHER_MI: ManagedIdentity = { clientId: '55555555-5555-5555-5555-555555555555', objectId: '66666666-6666-6666-6666-666666666666', resourceId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/billing' };

/** The stand-in for this suite: a Mock whose calls reach the one started in beforeAll. */
export function msalStandIn(state: Partial<MockState>): Mock {
  let mock: Mock | undefined;
  const saved = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  beforeAll(async () => {
    mock = await startMock({ nmi: '127.0.0.1:0', imds: '127.0.0.1:0' });
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = `http://127.0.0.1:${mock.imdsPort}`;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST; else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = saved;
    await mock?.stop();
  });
  beforeEach(async () => {
    await mock!.set(state);
    await mock!.reset();
  });
  return new Proxy({} as Mock, {
    get: (_, key) => {
      const v = (mock as any)?.[key];
      return typeof v === 'function' ? v.bind(mock) : v;
    },
  });
}
