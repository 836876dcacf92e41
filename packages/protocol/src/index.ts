// Public surface of the protocol package: what agent, control plane and third parties share.
export const PROTOCOL_VERSION = 1;
export { TetherError, isTetherError } from './tether-error.js';
export { untrustedText } from './untrusted-text.js';
export * from './extension-name.js';
export * from './agent-configuration.js';
export type { MetricSample } from './metric-sample.js';
export * from './guest-configuration.js';
export * from './parse-guest-configuration.js';
export * from './guest-configuration-agent-api.js';
export * from './local-change.js';
export * from './agent-channel.js';
