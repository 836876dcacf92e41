// The one place that decides whether an extension operation may run on this server, from the
// local configuration alone (S8, S9, S11, S14, fail closed). Pure: no I/O, no clock.
import {
  formatExtensionName,
  isAllowNone,
  listIncludesExtension,
  type ExtensionName,
} from '@tether/protocol';
import type { LoadedConfig } from './config/local-config-file.js';
import { effectiveSettings } from './effective-settings.js';
import type { AgentErrorCode } from './errors.js';

export type ExtensionOperation = 'install' | 'update' | 'upgrade' | 'remove';

export type AllowBasis =
  'removal-always-allowed' | 'in-allowlist' | 'in-monitor-mode-allowlist' | 'no-allowlist';

export type DenialCode = Extract<
  AgentErrorCode,
  | 'ERR_EXTENSION_BLOCKED'
  | 'ERR_EXTENSION_NOT_ALLOWED'
  | 'ERR_EXTENSIONS_DISABLED'
  | 'ERR_CONFIG_CORRUPT'
>;

export type PolicyDecision =
  | { readonly allowed: true; readonly basis: AllowBasis }
  | { readonly allowed: false; readonly code: DenialCode; readonly reason: string };

const PAST: { readonly [O in ExtensionOperation]: string } = {
  install: 'installed',
  update: 'updated',
  upgrade: 'upgraded',
  remove: 'removed',
};

export function decideExtensionOperation(
  loaded: LoadedConfig,
  operation: ExtensionOperation,
  extension: ExtensionName,
): PolicyDecision {
  const name = formatExtensionName(extension);
  const refused = (code: DenialCode, why: string, fix: string): PolicyDecision => ({
    allowed: false,
    code,
    reason: `Extension ${name} cannot be ${PAST[operation]}: ${why}. ${fix}`,
  });

  if (loaded.state === 'corrupt') {
    // Removal cannot widen what runs on the server, so it stays possible while the file is broken.
    if (operation === 'remove') return { allowed: true, basis: 'removal-always-allowed' };
    return refused(
      'ERR_CONFIG_CORRUPT',
      `the local configuration file ${loaded.paths.localConfig} cannot be used (${loaded.reason}), so the agent refuses installs, updates and upgrades until it is repaired`,
      "A local administrator can repair it with 'sudo azcmagent config clear' or by restoring the previous version.",
    );
  }

  const settings = effectiveSettings(loaded.settings);
  if (!settings.extensionsEnabled) {
    return refused(
      'ERR_EXTENSIONS_DISABLED',
      'the extension manager is disabled on this server (extensions.enabled is false), so no extension operations run',
      "A local administrator can enable it with 'sudo azcmagent config set extensions.enabled true'.",
    );
  }
  if (operation === 'remove') return { allowed: true, basis: 'removal-always-allowed' };

  if (listIncludesExtension(settings.blocklist, extension)) {
    return refused(
      'ERR_EXTENSION_BLOCKED',
      'it is in the local blocklist (extensions.blocklist), and the blocklist wins over any allowlist',
      `A local administrator can unblock it with 'sudo azcmagent config set extensions.blocklist ${name} --remove'.`,
    );
  }
  const allowlist = settings.allowlist;
  if (allowlist === null) return { allowed: true, basis: 'no-allowlist' };

  if (settings.mode === 'monitor') {
    if (listIncludesExtension(allowlist, extension)) {
      return { allowed: true, basis: 'in-monitor-mode-allowlist' };
    }
    return refused(
      'ERR_EXTENSION_NOT_ALLOWED',
      'the agent is in monitor mode, which allows only the vendor-managed monitoring and security extensions, and this is not one of them',
      "A local administrator can switch to full mode with 'sudo azcmagent config set config.mode full' and then set their own allowlist.",
    );
  }
  if (allowlist.some(isAllowNone)) {
    return refused(
      'ERR_EXTENSION_NOT_ALLOWED',
      'the local allowlist is Allow/None, which allows no extensions on this server',
      `A local administrator can allow it with 'sudo azcmagent config set extensions.allowlist ${name}'.`,
    );
  }
  if (listIncludesExtension(allowlist, extension)) return { allowed: true, basis: 'in-allowlist' };
  return refused(
    'ERR_EXTENSION_NOT_ALLOWED',
    'a local allowlist is set (extensions.allowlist) and it is not in it',
    `A local administrator can allow it with 'sudo azcmagent config set extensions.allowlist ${name} --add'.`,
  );
}
