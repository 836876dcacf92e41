// Directory requests refused for what they ask (bad input, a missing object, a conflict):
// ARM-shaped errors, each naming the value and what is accepted.
import { ArmError } from '../api/arm-error.js';

export function invalidInput(target: string, message: string): ArmError {
  return new ArmError('InvalidRequestContent', message, { target });
}

export function notFound(kind: string, id: string): ArmError {
  return new ArmError(
    'ResourceNotFound',
    `${kind} '${id}' does not exist in the directory. Check the id, or list ${kind}s to find it.`,
    { target: 'id' },
  );
}

export function conflict(target: string, message: string): ArmError {
  return new ArmError('Conflict', message, { target });
}
