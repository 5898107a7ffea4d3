// The errors capability: the catalog of codes and the error type.
export { ERROR_CODES, type ErrorCode } from './error-codes.js';
export { LifeboatError, isLifeboatError, describeError, type LifeboatErrorOptions } from './lifeboat-error.js';
export { InterruptedError, describeInterruption, interruptReason } from './interrupted-error.js';
