// The CustomScript handler program: `node handler.cjs install|uninstall|update|enable|disable`.
import { runHandler } from '../handler-kit/handler-main.js';
import { customScriptProgram } from './custom-script-handler.js';

void runHandler(customScriptProgram, process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
