// Why `tether server` or `tether init` cannot start: each names the value and the fix.
import { TetherError } from '@tether/protocol';

export type ServerErrorCode = 'ERR_SERVER_CONFIG' | 'ERR_NOT_INITIALIZED';

export class ServerError extends TetherError<ServerErrorCode> {}
