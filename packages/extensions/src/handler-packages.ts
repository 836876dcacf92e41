// The first-party handler packages this workspace builds: identity, entry point and manifest.
// scripts/build-packages.mjs reads this list to bundle and lay out each package folder.

export interface HandlerPackage {
  readonly publisher: string;
  readonly type: string;
  readonly version: string;
  /** Compiled entry point, relative to this package's dist/. */
  readonly entry: string;
  /** Extra HandlerManifest fields (Tether's `hostedCommand`). */
  readonly hostedCommand?: string;
}

/** The single program file every package ships; commands run it with the agent's Node.js. */
export const HANDLER_FILE = 'handler.cjs';

export const HANDLER_PACKAGES: readonly HandlerPackage[] = [
  {
    publisher: 'Microsoft.Azure.Extensions',
    type: 'CustomScript',
    version: '2.1.0',
    entry: 'custom-script/main.js',
  },
  {
    publisher: 'Microsoft.Azure.Monitor',
    type: 'AzureMonitorLinuxAgent',
    version: '1.33.0',
    entry: 'azure-monitor-linux-agent/main.js',
    hostedCommand: `node ${HANDLER_FILE} run`,
  },
];

/** The package folder's name under dist/packages/. */
export function packageDirName(pkg: HandlerPackage): string {
  return `${pkg.publisher}.${pkg.type}`;
}

/** A first-party package's `HandlerManifest.json`: every command runs its one program file. */
export function handlerManifest(pkg: HandlerPackage): unknown {
  return handlerManifestOf((verb) => `node ${HANDLER_FILE} ${verb}`, pkg.hostedCommand);
}

/** `HandlerManifest.json` as the Azure Linux handler contract has it, each command from `command`. */
export function handlerManifestOf(
  command: (verb: string) => string,
  hostedCommand?: string,
): unknown {
  return [
    {
      version: 1.0,
      handlerManifest: {
        installCommand: command('install'),
        uninstallCommand: command('uninstall'),
        updateCommand: command('update'),
        enableCommand: command('enable'),
        disableCommand: command('disable'),
        ...(hostedCommand === undefined ? {} : { hostedCommand }),
        rebootAfterInstall: false,
        reportHeartbeat: false,
        updateMode: 'UpdateWithInstall',
      },
    },
  ];
}
