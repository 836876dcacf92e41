// The lock-down best practices of S12, read from what is in force on this server: an allowlist
// rather than a blocklist, no script-running extension allowed, guest configuration disabled.
import { AGENT_FOLDERS, formatExtensionName, parseExtensionName } from '@tether/protocol';
import type { LocalConfig } from '../config/local-config.js';
import { effectiveSettings } from '../effective-settings.js';
import { decideExtensionOperation } from '../extension-policy.js';
import type { CheckContext, CheckGroup, CheckResult } from './check.js';

/** Extensions that run whatever script they are given, as root, like Custom Script does. */
export const SCRIPT_EXTENSIONS = [
  'Microsoft.Azure.Extensions/CustomScript',
  'Microsoft.OSTCExtensions/CustomScriptForLinux',
  'Microsoft.Compute/CustomScriptExtension',
  'Microsoft.CPlat.Core/RunCommandLinux',
  'Microsoft.CPlat.Core/RunCommandHandlerLinux',
  'Microsoft.CPlat.Core/RunCommandWindows',
  'Microsoft.CPlat.Core/RunCommandHandlerWindows',
].map((name) => parseExtensionName(name));

export const lockdownChecks: CheckGroup = {
  title: 'Local security controls (lock-down best practices)',
  run: (context) => {
    const { loaded, paths } = context;
    if (loaded.state === 'corrupt') {
      return [
        {
          id: 'config-file',
          title: 'Local configuration file',
          status: 'fail',
          detail: `${paths.localConfig} cannot be used (${loaded.reason}); extension installs, updates and upgrades are refused until it is repaired with 'sudo azcmagent config clear' or restored from ${paths.localConfigBackup}.`,
        },
      ];
    }
    return [
      {
        id: 'config-file',
        title: 'Local configuration file',
        status: 'pass',
        detail:
          loaded.bytes === null
            ? `${paths.localConfig} does not exist yet; the defaults are in force.`
            : `${paths.localConfig} is valid.`,
      },
      allowlistCheck(loaded.settings),
      scriptExtensionCheck(context),
      guestConfigurationCheck(loaded.settings),
      agentGuardCheck(),
    ];
  },
};

function allowlistCheck(config: LocalConfig): CheckResult {
  const base = { id: 'allowlist', title: 'Allowlist rather than blocklist' } as const;
  const effective = effectiveSettings(config);
  if (!effective.extensionsEnabled) {
    return {
      ...base,
      status: 'pass',
      detail: 'The extension manager is disabled; no extension can be installed.',
    };
  }
  if (effective.allowlist !== null) {
    const source =
      effective.mode === 'monitor'
        ? "monitor mode's vendor-managed allowlist"
        : 'a local allowlist';
    return { ...base, status: 'pass', detail: `Only extensions on ${source} can be installed.` };
  }
  const advice =
    "Prefer an allowlist of the extensions you need: sudo azcmagent config set extensions.allowlist 'Publisher/Type,…'.";
  return effective.blocklist.length > 0
    ? {
        ...base,
        status: 'warn',
        detail: `Only a blocklist is set, so any extension not on it can be installed. ${advice}`,
      }
    : {
        ...base,
        status: 'warn',
        detail: `No allowlist is set, so any extension can be installed. ${advice}`,
      };
}

function scriptExtensionCheck({ loaded }: CheckContext): CheckResult {
  const base = { id: 'custom-script', title: 'No custom script extension allowed' } as const;
  const allowed = SCRIPT_EXTENSIONS.filter(
    (extension) => decideExtensionOperation(loaded, 'install', extension).allowed,
  ).map(formatExtensionName);
  if (allowed.length === 0) {
    return { ...base, status: 'pass', detail: 'No script-running extension can be installed.' };
  }
  return {
    ...base,
    status: 'warn',
    detail: `These extensions run arbitrary scripts as root and could change the agent's configuration, and they can be installed: ${allowed.join(', ')}. Keep them out of extensions.allowlist (or add them to extensions.blocklist).`,
  };
}

function guestConfigurationCheck(config: LocalConfig): CheckResult {
  const base = { id: 'guest-configuration', title: 'Guest configuration disabled' } as const;
  if (!effectiveSettings(config).guestConfigurationEnabled) {
    return { ...base, status: 'pass', detail: 'Guest configuration does not run on this server.' };
  }
  return {
    ...base,
    status: 'warn',
    detail:
      "Guest configuration is enabled; custom guest configuration policies run as root and could change the agent's configuration. If you do not need it: sudo azcmagent config set guestconfiguration.enabled false.",
  };
}

/** A property of this agent, not a setting: stated so the administrator knows where the line is. */
function agentGuardCheck(): CheckResult {
  return {
    id: 'guest-configuration-agent-guard',
    title: 'Guest configuration cannot change the agent',
    status: 'pass',
    detail: `Guest configuration packages whose rules name a path under the agent's folders (${AGENT_FOLDERS.join(', ')}), directly or through a link, or whose commands name azcmagent, are refused before they run; remediation never writes there.`,
  };
}
