// `tether extension keygen|publish|list`: publisher keys and the signed package repository.
import type { Command } from 'commander';
import { processCliDeps, type CliDeps } from '../client/cli-deps.js';

export function register(program: Command, _deps: CliDeps = processCliDeps()): void {
  program
    .command('extension')
    .description('Publisher keys and signed extension packages (keygen, publish, list)');
}
