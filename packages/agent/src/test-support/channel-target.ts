// What the agent channel's tests share: the machine a test channel is opened for, on a local
// TLS server of the test's own, and the POST answer the channel's fallback is given.
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { HeartbeatAnswer, MachineTarget } from '../control-plane/machine-api.js';
import { DIRECT_EGRESS } from '../network/egress.js';
import type { TestTls } from './test-tls.js';

export function channelTestTarget(server: Server, tls: TestTls): MachineTarget {
  return {
    endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ca: tls.caCert,
    egress: DIRECT_EGRESS,
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    resourceGroup: 'rg',
    resourceName: 'm1',
  };
}

export const POSTED: HeartbeatAnswer = {
  heartbeatIntervalSeconds: 300,
  credentialExpiresOn: undefined,
  rotationRequested: false,
  localChangesAcknowledged: undefined,
};
