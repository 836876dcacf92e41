// A refused bearer token: the ARM 401 body plus the `WWW-Authenticate: Bearer` challenge that
// tells the client where to get a token and why this one was refused.
import type { FastifyInstance } from 'fastify';
import { ArmError, type ArmErrorCode } from '../api/arm-error.js';

export type AuthenticationErrorCode = Extract<
  ArmErrorCode,
  | 'AuthenticationFailed'
  | 'InvalidAuthenticationToken'
  | 'InvalidAuthenticationTokenAudience'
  | 'ExpiredAuthenticationToken'
>;

export class AuthenticationError extends ArmError {
  /** The value of the `WWW-Authenticate` header to answer with. */
  readonly challenge: string;

  constructor(code: AuthenticationErrorCode, message: string, authorizationUri: string) {
    super(code, message);
    const description = message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
    this.challenge = `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="${description}"`;
  }
}

/** Adds the challenge header to every 401 an AuthenticationError causes. */
export function sendAuthenticationChallenges(app: FastifyInstance): void {
  app.addHook('onError', (_request, reply, error, done) => {
    if (error instanceof AuthenticationError)
      void reply.header('www-authenticate', error.challenge);
    done();
  });
}
