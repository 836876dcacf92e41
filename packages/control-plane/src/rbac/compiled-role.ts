// A role definition checked once and turned into matchers, with a bounded memo of the
// answer per action string: the API asks a handful of distinct actions millions of times.
import type { ActionPattern } from './action-pattern.js';
import { compileActionPattern } from './action-pattern.js';
import { deepFreeze } from './deep-freeze.js';
import { checkId } from './principal-id.js';
import { RbacError } from './rbac-error.js';
import { isWithinScope, normalizeScope } from './scope.js';
import type { Permission, RoleDefinition } from './types.js';

/** Bounds the memo so that a stream of made-up action strings cannot grow memory. */
export const DECISION_CACHE_LIMIT = 1024;

const ROLE_TYPES: ReadonlySet<string> = new Set(['BuiltInRole', 'CustomRole']);
const PERMISSION_FIELDS = ['actions', 'notActions', 'dataActions', 'notDataActions'] as const;

interface Block {
  actions: ActionPattern[];
  notActions: ActionPattern[];
}

export class CompiledRole {
  private readonly decisions = new Map<string, boolean>();
  /** Built-in roles and most custom ones are assignable at '/': skip the scope walk for them. */
  private readonly assignableEverywhere: boolean;

  private constructor(
    /** Frozen copy with normalized assignable scopes. */
    readonly definition: RoleDefinition,
    private readonly blocks: readonly Block[],
  ) {
    this.assignableEverywhere = definition.assignableScopes.includes('/');
  }

  /** Validates a definition; throws ERR_INVALID_ROLE_DEFINITION naming the bad field. */
  static compile(input: RoleDefinition): CompiledRole {
    const definition = validate(input);
    const blocks = definition.permissions.map((p, i) => ({
      actions: p.actions.map((a, j) =>
        compilePattern(definition.name, `permissions[${i}].actions[${j}]`, a),
      ),
      notActions: p.notActions.map((a, j) =>
        compilePattern(definition.name, `permissions[${i}].notActions[${j}]`, a),
      ),
    }));
    // Data actions are never checked by the control plane, but a bad one is still bad input.
    definition.permissions.forEach((p, i) => {
      p.dataActions.forEach((a, j) =>
        compilePattern(definition.name, `permissions[${i}].dataActions[${j}]`, a),
      );
      p.notDataActions.forEach((a, j) =>
        compilePattern(definition.name, `permissions[${i}].notDataActions[${j}]`, a),
      );
    });
    return new CompiledRole(deepFreeze(definition), blocks);
  }

  /** True when one permission block matches the action and none of its own notActions does. */
  allows(action: string): boolean {
    const known = this.decisions.get(action);
    if (known !== undefined) return known;
    const lower = action.toLowerCase();
    const decision = this.blocks.some(
      (b) => b.actions.some((p) => p.matches(lower)) && !b.notActions.some((p) => p.matches(lower)),
    );
    if (this.decisions.size >= DECISION_CACHE_LIMIT) {
      const oldest = this.decisions.keys().next();
      if (oldest.done !== true) this.decisions.delete(oldest.value);
    }
    this.decisions.set(action, decision);
    return decision;
  }

  /** How many answers are memoized; for diagnostics and the test that the memo stays bounded. */
  get decisionCacheSize(): number {
    return this.decisions.size;
  }

  /** `scope` must be normalized. */
  isAssignableAt(scope: string): boolean {
    return (
      this.assignableEverywhere ||
      this.definition.assignableScopes.some((s) => isWithinScope(scope, s))
    );
  }
}

function invalid(name: unknown, target: string, why: string, cause?: unknown): RbacError {
  const subject =
    typeof name === 'string' && name.length > 0
      ? `role definition ${JSON.stringify(name)}`
      : 'role definition';
  return new RbacError('ERR_INVALID_ROLE_DEFINITION', `${subject}: ${target} ${why}`, {
    target,
    cause,
  });
}

function compilePattern(name: string, target: string, pattern: string): ActionPattern {
  try {
    return compileActionPattern(pattern);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw invalid(name, target, `is not valid (${why})`, error);
  }
}

function validate(input: RoleDefinition): RoleDefinition {
  const raw = input as Partial<Record<keyof RoleDefinition, unknown>> | null;
  if (typeof raw !== 'object' || raw === null)
    throw invalid(undefined, 'body', 'must be an object');
  const { roleName, description, roleType, permissions, assignableScopes } = raw;
  const name = checkId(raw.name, 'name', 'ERR_INVALID_ROLE_DEFINITION');
  if (typeof roleName !== 'string' || roleName.trim().length === 0 || roleName.length > 512) {
    throw invalid(name, 'roleName', 'must be a non-empty string of at most 512 characters');
  }
  if (description !== undefined && typeof description !== 'string')
    throw invalid(name, 'description', 'must be a string');
  if (typeof roleType !== 'string' || !ROLE_TYPES.has(roleType)) {
    throw invalid(name, 'roleType', 'must be "BuiltInRole" or "CustomRole"');
  }
  if (!Array.isArray(permissions))
    throw invalid(name, 'permissions', 'must be an array of permission blocks');
  if (!Array.isArray(assignableScopes) || assignableScopes.length === 0) {
    throw invalid(
      name,
      'assignableScopes',
      'must list at least one scope, e.g. ["/subscriptions/{id}"]',
    );
  }
  const scopes = assignableScopes.map((s: unknown, i) => {
    try {
      return normalizeScope(s as string);
    } catch (error) {
      throw invalid(name, `assignableScopes[${i}]`, `is not a valid scope (${String(s)})`, error);
    }
  });
  return {
    name,
    roleName,
    description: description ?? '',
    roleType: roleType as RoleDefinition['roleType'],
    permissions: permissions.map((p: unknown, i) => validatePermission(name, i, p)),
    assignableScopes: [...new Set(scopes)],
  };
}

function validatePermission(name: string, index: number, raw: unknown): Permission {
  if (typeof raw !== 'object' || raw === null)
    throw invalid(name, `permissions[${index}]`, 'must be an object');
  const block = raw as Partial<Record<keyof Permission, unknown>>;
  const copy: Permission = { actions: [], notActions: [], dataActions: [], notDataActions: [] };
  for (const field of PERMISSION_FIELDS) {
    const list = block[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((a) => typeof a !== 'string')) {
      throw invalid(name, `permissions[${index}].${field}`, 'must be an array of strings');
    }
    copy[field] = [...(list as string[])];
  }
  return copy;
}
