// The commands that bring in the services, the extension host, zip and JOSE code. Shipped as a
// second bundle (scripts/bundle.mjs) that only these commands load, so that every other command
// starts without parsing them.
export * as connect from './connect-command.js';
export * as disconnect from './disconnect-command.js';
export * as extensionList from './extension-list-command.js';
export * as extensionRemove from './extension-remove-command.js';
export * as extensionTrust from './extension-trust-command.js';
export * as extensionUntrust from './extension-untrust-command.js';
export * as logs from './logs-command.js';
export * as serviceRun from './service-run-command.js';
export * as upgradeTrust from './upgrade-trust-command.js';
export * as upgradeUntrust from './upgrade-untrust-command.js';
