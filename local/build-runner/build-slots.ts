/**
 * The local build quota: at most `limit` builds run at once and the rest wait in the order they
 * came, as builds past a CodeBuild account's concurrent-build quota wait in its queue.
 */
export class BuildSlots {
  private running = 0;
  private readonly waiting: { grant: () => void; signal?: AbortSignal }[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a build quota must be 1 or more, got ${limit}`);
  }

  /** How many builds run and how many wait, for the log. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Resolves with a release function once a slot is free; resolves `undefined` if `signal` aborts
   * first (the build was stopped while queued).
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    if (this.running < this.limit && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const entry = {
        signal,
        grant: () => {
          signal?.removeEventListener('abort', leave);
          this.running++;
          resolve(this.releaser());
        },
      };
      const leave = () => {
        const at = this.waiting.indexOf(entry);
        if (at !== -1) this.waiting.splice(at, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', leave, { once: true });
      this.waiting.push(entry);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiting.shift()?.grant();
    };
  }
}
