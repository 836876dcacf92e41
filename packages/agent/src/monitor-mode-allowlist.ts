// The vendor-managed allowlist monitor mode puts in force: monitoring and security extensions
// only. Shipped with the agent and changed only by an agent release; never a script runner.
import { parseExtensionName, type ExtensionName } from '@tether/protocol';

const ENTRIES = [
  // Azure Monitor agent (the seed's "Azure Monitor agent only" example).
  'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent',
  'Microsoft.Azure.Monitor/AzureMonitorWindowsAgent',
  // Log Analytics agent and VM insights dependency agent (the seed's second example).
  'Microsoft.EnterpriseCloud.Monitoring/MicrosoftMonitoringAgent',
  'Microsoft.EnterpriseCloud.Monitoring/OMSAgentForLinux',
  'Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentLinux',
  'Microsoft.Azure.Monitoring.DependencyAgent/DependencyAgentWindows',
  // Defender for Cloud: vulnerability assessment, Defender for Endpoint, SQL threat protection.
  'Qualys/LinuxAgent.AzureSecurityCenter',
  'Qualys/WindowsAgent.AzureSecurityCenter',
  'Microsoft.Azure.AzureDefenderForServers/MDE.Linux',
  'Microsoft.Azure.AzureDefenderForServers/MDE.Windows',
  'Microsoft.Azure.AzureDefenderForSQL/AdvancedThreatProtection.Windows',
  // Azure security monitoring agent and change tracking: collect data, run no user scripts.
  'Microsoft.Azure.Security.Monitoring/AzureSecurityLinuxAgent',
  'Microsoft.Azure.Security.Monitoring/AzureSecurityWindowsAgent',
  'Microsoft.Azure.ChangeTrackingAndInventory/ChangeTracking-Linux',
  'Microsoft.Azure.ChangeTrackingAndInventory/ChangeTracking-Windows',
] as const;

export const MONITOR_MODE_ALLOWLIST: readonly ExtensionName[] = Object.freeze(
  ENTRIES.map((entry) => parseExtensionName(entry)),
);
