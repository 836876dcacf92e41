// The control plane's version, reported by `tether --version`.
export const TETHER_VERSION = '0.1.0';
