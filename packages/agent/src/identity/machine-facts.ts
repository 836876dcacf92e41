// What the machine says about itself on connect and in each heartbeat: OS name and version,
// fully qualified name and agent version.
import { readFileSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { agentVersion } from '../version.js';

export interface OsFacts {
  readonly osName: string;
  readonly osType: string;
  readonly osVersion: string;
  readonly machineFqdn: string;
  readonly agentVersion: string;
}

export function osFacts(): OsFacts {
  let osName = 'linux';
  let osVersion = release();
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const field = (name: string): string | undefined =>
      new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1];
    osName = field('NAME') ?? osName;
    osVersion = field('VERSION_ID') ?? osVersion;
  } catch {
    // Not every system has os-release; the kernel release still identifies it.
  }
  return {
    osName,
    osType: 'linux',
    osVersion,
    machineFqdn: hostname(),
    agentVersion: agentVersion(),
  };
}
