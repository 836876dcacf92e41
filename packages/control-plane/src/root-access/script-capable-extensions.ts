// Which extension types let whoever deploys them run code of their choosing as root: the table
// the root-access report reads. A type not listed counts as script-capable (fail closed).
import { extensionNamesEqual, parseExtensionName, type ExtensionName } from '@tether/protocol';

export interface ExtensionCapability {
  /** `Publisher/Type`. */
  readonly name: string;
  /** Its settings (or the server they name) decide what runs as root. */
  readonly scriptCapable: boolean;
  /** Why, in a few words, for the report and the docs. */
  readonly why: string;
}

const RUNS_SETTINGS = 'runs the commands or scripts its settings name, as root';
const COLLECTS = 'collects monitoring or security data; its settings name no code to run';

/** Known first-party and common extension types; docs/security.md shows the same table. */
export const EXTENSION_CAPABILITIES: readonly ExtensionCapability[] = Object.freeze([
  { name: 'Microsoft.Azure.Extensions/CustomScript', scriptCapable: true, why: RUNS_SETTINGS },
  {
    name: 'Microsoft.OSTCExtensions/CustomScriptForLinux',
    scriptCapable: true,
    why: RUNS_SETTINGS,
  },
  { name: 'Microsoft.Compute/CustomScriptExtension', scriptCapable: true, why: RUNS_SETTINGS },
  { name: 'Microsoft.CPlat.Core/RunCommandLinux', scriptCapable: true, why: RUNS_SETTINGS },
  { name: 'Microsoft.CPlat.Core/RunCommandHandlerLinux', scriptCapable: true, why: RUNS_SETTINGS },
  {
    name: 'Microsoft.CPlat.Core/RunCommandHandlerWindows',
    scriptCapable: true,
    why: RUNS_SETTINGS,
  },
  {
    name: 'Microsoft.Powershell/DSC',
    scriptCapable: true,
    why: 'applies the configuration script its settings name',
  },
  {
    name: 'Microsoft.OSTCExtensions/VMAccessForLinux',
    scriptCapable: true,
    why: 'resets passwords and SSH keys, root’s included',
  },
  {
    name: 'Microsoft.Compute/VMAccessAgent',
    scriptCapable: true,
    why: 'resets the local administrator’s password',
  },
  {
    name: 'Chef.Bootstrap.WindowsAzure/LinuxChefClient',
    scriptCapable: true,
    why: 'runs the recipes of the Chef server its settings name',
  },
  {
    name: 'Chef.Bootstrap.WindowsAzure/ChefClient',
    scriptCapable: true,
    why: 'runs the recipes of the Chef server its settings name',
  },
  { name: 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent', scriptCapable: false, why: COLLECTS },
  { name: 'Microsoft.Azure.Monitor/AzureMonitorWindowsAgent', scriptCapable: false, why: COLLECTS },
  {
    name: 'Microsoft.EnterpriseCloud.Monitoring/MicrosoftMonitoringAgent',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.EnterpriseCloud.Monitoring/OMSAgentForLinux',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentLinux',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentWindows',
    scriptCapable: false,
    why: COLLECTS,
  },
  { name: 'Qualys/LinuxAgent.AzureSecurityCenter', scriptCapable: false, why: COLLECTS },
  { name: 'Qualys/WindowsAgent.AzureSecurityCenter', scriptCapable: false, why: COLLECTS },
  {
    name: 'Microsoft.Azure.AzureDefenderForServers/MDE.Linux',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.Azure.AzureDefenderForServers/MDE.Windows',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.Azure.AzureDefenderForSQL/AdvancedThreatProtection.Windows',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.Azure.Security.Monitoring/AzureSecurityLinuxAgent',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.Azure.Security.Monitoring/AzureSecurityWindowsAgent',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.Azure.ChangeTrackingAndInventory/ChangeTracking-Linux',
    scriptCapable: false,
    why: COLLECTS,
  },
  {
    name: 'Microsoft.Azure.ChangeTrackingAndInventory/ChangeTracking-Windows',
    scriptCapable: false,
    why: COLLECTS,
  },
]);

const PARSED = EXTENSION_CAPABILITIES.map((entry) => ({
  entry,
  name: parseExtensionName(entry.name),
}));

/** The table's entry for an extension type, matched case-insensitively; undefined if unknown. */
export function knownCapability(extension: ExtensionName): ExtensionCapability | undefined {
  return PARSED.find((p) => extensionNamesEqual(p.name, extension))?.entry;
}

/** Unknown types are script-capable: nothing vouches that their settings cannot run code. */
export function isScriptCapable(extension: ExtensionName): boolean {
  return knownCapability(extension)?.scriptCapable ?? true;
}
