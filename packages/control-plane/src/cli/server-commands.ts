// The commands that bring in the server, its store, certificates and token signing. Shipped as a
// second bundle (scripts/bundle.mjs) that only these commands load, so that every client command
// starts without parsing them.
export * as backup from './commands/backup.js';
export * as init from './commands/init.js';
export * as keys from './commands/keys.js';
export * as server from './commands/server.js';
