// The end-to-end harness: a real control plane in child processes, and client programs run the
// way a user runs them. Typical use:
//
//   const plane = await startControlPlane();
//   after(() => plane.stop());
//   const answer = await runNodeClient('arm-machines', [JSON.stringify(input)], plane.clientEnv());
//   const direct = await plane.admin.call('GET', '/v1.0/servicePrincipals');
export { AdminClient, type CallOptions, type HttpAnswer } from './admin-client.js';
export { runNodeClient, type ClientEnv } from './run-node-client.js';
export { startControlPlane, type ControlPlane } from './start-control-plane.js';
export {
  connectAgent,
  startAgentService,
  type AgentService,
  type ConnectedAgent,
} from './connected-agent.js';
export {
  firstPartyPackages,
  makePublisherKey,
  publishPackage,
  runTetherAs,
  type PackageRef,
  type PublisherKey,
} from './extension-publisher.js';
export {
  builtInConfigurations,
  publishGuestConfiguration,
  type GuestConfigurationRef,
} from './guest-configuration-publisher.js';
export { heartbeatWatch, type HeartbeatWatch } from './heartbeat-watch.js';
export { tetherCli, type CliRun, type TetherCli } from './tether-cli.js';
export { waitFor } from './wait-for.js';
export {
  controlPlaneNodesUnavailable,
  startControlPlaneNodes,
  type ControlPlaneNodes,
} from './control-plane-nodes.js';
