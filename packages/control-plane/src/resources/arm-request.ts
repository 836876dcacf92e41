// Reading an ARM request: path parameters, query values and JSON bodies, each failing with
// an error that names the offending field, so bad input changes nothing.
import type { FastifyRequest } from 'fastify';
import { ArmError } from '../api/arm-error.js';

export type JsonObject = Record<string, unknown>;

export function paramsOf(request: FastifyRequest): Record<string, string> {
  return request.params as Record<string, string>;
}

/** A path parameter the route pattern guarantees. */
export function param(request: FastifyRequest, name: string): string {
  const value = paramsOf(request)[name];
  if (value === undefined) throw new Error(`route has no :${name} parameter`);
  return value;
}

/** A single-valued query parameter; repeating it is an error rather than a guess. */
export function queryValue(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  if (Array.isArray(value)) {
    throw new ArmError('BadRequest', `The query parameter '${name}' was given more than once.`, {
      target: name,
    });
  }
  return value;
}

export function invalidContent(target: string, why: string): ArmError {
  return new ArmError(
    'InvalidRequestContent',
    `The request content is invalid: '${target}' ${why}.`,
    {
      target,
    },
  );
}

/** The request body as a JSON object; anything else is InvalidRequestContent. */
export function bodyObject(request: FastifyRequest): JsonObject {
  return bodyObjectOf(request.body);
}

/** A parsed request body as a JSON object; anything else is InvalidRequestContent. */
export function bodyObjectOf(body: unknown): JsonObject {
  if (body === undefined || body === null || (typeof body === 'string' && body.length === 0)) {
    throw invalidContent(
      'body',
      'is missing; send a JSON object with Content-Type: application/json',
    );
  }
  return asObject(body, 'body');
}

export function asObject(value: unknown, target: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidContent(target, 'must be a JSON object');
  }
  return value as JsonObject;
}

/** Refuses fields the API does not know, instead of silently dropping them. */
export function rejectUnknownFields(
  object: JsonObject,
  known: readonly string[],
  prefix: string,
): void {
  const names = knownNames(known);
  for (const key of Object.keys(object)) {
    if (!names.exact.has(key) && !names.lowerCase.has(key.toLowerCase())) {
      throw invalidContent(
        prefix === '' ? key : `${prefix}.${key}`,
        `is not a known field; accepted: ${known.join(', ')}`,
      );
    }
  }
}

interface KnownNames {
  exact: ReadonlySet<string>;
  lowerCase: ReadonlySet<string>;
}

/** By list identity: the lists are module constants, checked on every request. */
const knownNamesByList = new WeakMap<readonly string[], KnownNames>();

function knownNames(known: readonly string[]): KnownNames {
  let names = knownNamesByList.get(known);
  if (names === undefined) {
    names = { exact: new Set(known), lowerCase: new Set(known.map((k) => k.toLowerCase())) };
    knownNamesByList.set(known, names);
  }
  return names;
}

/** A field looked up case-insensitively, as ARM does for property names. */
export function field(object: JsonObject, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

export function optionalString(
  object: JsonObject,
  name: string,
  target: string,
  maxLength = 1024,
): string | undefined {
  const value = field(object, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > maxLength) {
    throw invalidContent(target, `must be a string of at most ${maxLength} characters`);
  }
  return value;
}

export function requiredString(
  object: JsonObject,
  name: string,
  target: string,
  maxLength = 1024,
): string {
  const value = optionalString(object, name, target, maxLength);
  if (value === undefined || value.length === 0) throw invalidContent(target, 'is required');
  return value;
}

/**
 * A PUT body may repeat the resource's `name` and `type` (what a GET returned); when it does,
 * they must be the URL's name and the route's type. `what` names the resource in the message.
 */
export function checkEchoedNameAndType(
  body: JsonObject,
  name: string,
  what: string,
  resourceType: string,
): void {
  const givenName = field(body, 'name');
  if (
    givenName !== undefined &&
    (typeof givenName !== 'string' || givenName.toLowerCase() !== name.toLowerCase())
  ) {
    throw invalidContent('name', `must be the ${what} name in the URL ('${name}') when given`);
  }
  const givenType = field(body, 'type');
  if (
    givenType !== undefined &&
    (typeof givenType !== 'string' || givenType.toLowerCase() !== resourceType.toLowerCase())
  ) {
    throw invalidContent('type', `must be '${resourceType}' when given`);
  }
}
