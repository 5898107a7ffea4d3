// Exponential backoff for one kind of retried work (restarting pg_receivewal, shipping to the repository):
// the first retry after `initialMs`, doubling up to `maxMs`, back to `initialMs` after a success.

export class RetryBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #delayMs: number;
  #retryAtMs = 0;

  /** `initialMs`: first delay, default 1000 ms; `maxMs`: cap, default 30 000 ms. */
  constructor(initialMs = 1000, maxMs = 30_000) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#delayMs = initialMs;
  }

  /** True when no failure is waiting out its delay at `nowMs`. */
  ready(nowMs: number): boolean {
    return nowMs >= this.#retryAtMs;
  }

  /** Record a failure at `nowMs`; returns the delay (ms) before the next attempt. */
  failed(nowMs: number): number {
    const delayMs = this.#delayMs;
    this.#retryAtMs = nowMs + delayMs;
    this.#delayMs = Math.min(this.#maxMs, delayMs * 2);
    return delayMs;
  }

  succeeded(): void {
    this.#delayMs = this.#initialMs;
    this.#retryAtMs = 0;
  }
}
