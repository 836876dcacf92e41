// The agent's version, reported by `azcmagent version` and later in every heartbeat.
export const AGENT_VERSION = '0.1.0';
