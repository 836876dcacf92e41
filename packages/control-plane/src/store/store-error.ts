// Errors the store raises before any query runs: a bad location, or a database another
// process holds; or a disk that could not make a commit durable.
import { TetherError } from '@tether/protocol';

export type StoreErrorCode = 'ERR_STORE_CONFIG' | 'ERR_STORE_IN_USE' | 'ERR_STORE_IO';

export class StoreError extends TetherError<StoreErrorCode> {}
