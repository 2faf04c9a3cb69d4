/** Typed engine errors that callers branch on (instead of matching messages). */

/** NaN or ±Infinity where a finite value is required: names the op and, in training, the step. */
export class NonFiniteError extends Error {
  override readonly name = 'NonFiniteError';
  readonly op: string;
  readonly step: number | undefined;

  constructor(op: string, message: string, options: { step?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.op = op;
    this.step = options.step;
  }
}
