// A person's token from the unmodified @azure/identity DeviceCodeCredential or
// InteractiveBrowserCredential (authorityHost = Tether, instance discovery off, the default
// public client id), used by the unmodified @azure/arm-hybridcompute to list machines.
// The device code prompt is written to `promptFile` for the test to act on.
import { writeFileSync } from 'node:fs';
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import {
  DeviceCodeCredential,
  InteractiveBrowserCredential,
  type TokenCredential,
} from '@azure/identity';
import { collect, runClient, sdkOptions, text, type ArmClientInput } from './arm-client-kit.js';

function credentialFor(input: ArmClientInput): TokenCredential {
  const options = {
    tenantId: input.tenantId,
    authorityHost: input.endpoint,
    disableInstanceDiscovery: true,
  };
  if (input.action === 'device') {
    const promptFile = text(input, 'promptFile');
    return new DeviceCodeCredential({
      ...options,
      userPromptCallback: (info) => writeFileSync(promptFile, JSON.stringify(info)),
    });
  }
  return new InteractiveBrowserCredential(options);
}

async function main(input: ArmClientInput): Promise<unknown> {
  const credential = credentialFor(input);
  const client = new HybridComputeManagementClient(
    credential,
    input.subscriptionId,
    sdkOptions(input),
  );
  const machines = await collect(client.machines.listBySubscription());
  // From the credential's cache, without another sign-in: the SDK asked with CAE enabled, and
  // @azure/identity keeps CAE tokens in a cache of their own.
  const token = await credential.getToken('https://management.azure.com/.default', {
    enableCae: true,
  });
  return { machines: machines.length, token: token?.token };
}

runClient(main);
