/**
 * Local mode's time scale, in one place. Local mode's clock is the real clock: every timestamp it records
 * (runs, stages, audit events, decisions, alarm states) is real, and so is every duration it reports. The
 * scale shortens only the platform's *waits*, each at the local edge that waits:
 * - a Wait state's bake (local/step-functions.ts, found by the ASL's structure),
 * - an alarm's periods and how often it is evaluated (local/alarms.ts),
 * - a release gate's time to expire: core computes the deadline through the `WaitLength` port, which local
 *   mode answers with `wait` (local/runtime.ts); the deadline is the real instant the shortened wait ends.
 * Handlers and core never see the factor.
 */

/** The largest factor: an hour passes in a second. */
export const MAX_TIME_SCALE = 3600;

export class TimeScale {
  /** Waits last as long as the platform sets them, as on AWS. */
  static readonly REAL = new TimeScale(1);

  /**
   * @param factor how many times shorter the platform's waits are locally: 1 (as on AWS) to MAX_TIME_SCALE
   */
  constructor(readonly factor: number) {
    if (!(Number.isFinite(factor) && factor >= 1 && factor <= MAX_TIME_SCALE)) {
      throw new RangeError(`the time scale must be a number from 1 to ${MAX_TIME_SCALE}, got ${factor}`);
    }
  }

  /** How long (real ms) a wait the platform sets to `ms` lasts locally. */
  wait(ms: number): number {
    return ms / this.factor;
  }

  /** The length the platform set for a wait that lasts `ms` (real) here: the inverse of `wait`. */
  stated(ms: number): number {
    return ms * this.factor;
  }

  /**
   * A real instant on the timeline that waits are measured on: real time since `origin`, stretched by the
   * factor, so that on it a wait lasts as long as the platform set it (an alarm's one-minute period passes
   * in a real second at ×60). For code that reasons in the platform's lengths, such as CloudWatch's
   * evaluation; whatever it reports is turned back into real time with `real`.
   */
  stretched(at: number, origin: number): number {
    return origin + (at - origin) * this.factor;
  }

  /** The real instant of a point on the stretched timeline (the inverse of `stretched`). */
  real(at: number, origin: number): number {
    return origin + (at - origin) / this.factor;
  }
}
