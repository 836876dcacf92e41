// Naming rules ARM enforces on the ids and names Tether accepts in paths and bodies.
import { ArmError } from '../api/arm-error.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Letters and digits of any script, `_`, `-`, `.`, `(`, `)`; not ending in `.`. */
const RESOURCE_GROUP_NAME = /^[-\p{L}\p{N}_.()]{1,90}$/u;
/** 1–54 letters, digits, `-`, `_`, `.`; begins with a letter or digit, ends without `.`/`-`. */
const MACHINE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,52}[A-Za-z0-9_])?$/;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** A GUID in its canonical lower-case spelling, or InvalidRequestContent naming `target`. */
export function checkGuid(
  value: string,
  target: string,
  code: 'BadRequest' | 'InvalidRequestContent' = 'BadRequest',
): string {
  if (!GUID.test(value)) {
    throw new ArmError(
      code,
      `'${value.slice(0, 80)}' is not a valid ${target}: expected a GUID such as 00000000-0000-0000-0000-000000000000.`,
      { target },
    );
  }
  return value.toLowerCase();
}

export function checkSubscriptionId(value: string): string {
  if (!GUID.test(value)) {
    throw new ArmError(
      'InvalidScope',
      `The subscription id '${value.slice(0, 80)}' is not valid: expected a GUID.`,
      { target: 'subscriptionId' },
    );
  }
  return value.toLowerCase();
}

export function checkResourceGroupName(value: string): string {
  if (!RESOURCE_GROUP_NAME.test(value) || value.endsWith('.')) {
    throw new ArmError(
      'InvalidResourceName',
      `The resource group name '${value.slice(0, 100)}' is not valid: use 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'.`,
      { target: 'resourceGroupName' },
    );
  }
  return value;
}

export function checkMachineName(value: string): string {
  if (!MACHINE_NAME.test(value)) {
    throw new ArmError(
      'InvalidResourceName',
      `The machine name '${value.slice(0, 100)}' is not valid: use 1-54 letters, digits, '-', '_' or '.', beginning with a letter or digit and not ending in '.' or '-'.`,
      { target: 'machineName' },
    );
  }
  return value;
}
