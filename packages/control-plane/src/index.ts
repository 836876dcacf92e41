// Public surface of the control plane package: start a server, or assemble the app in process.
export {
  createControlPlaneApp,
  type ControlPlaneApp,
  type ControlPlaneAppOptions,
} from './server/control-plane-app.js';
export { startServer, type RunningServer, type ServerOptions } from './server/start-server.js';
export { initializeInstallation, type Installation } from './server/initialize-installation.js';
export { IdentityProvider, type IdentityOptions } from './identity/identity-provider.js';
export { openDatabase, type DatabaseLocation } from './store/open-database.js';
export { systemClock, ManualClock, type Clock } from './clock.js';
