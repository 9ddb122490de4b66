/** Starts a timer; returns what cancels it. Injected so that a test can step the phases by hand. */
export type Schedule = (run: () => void, ms: number) => () => void;

export const realSchedule: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref?.();
  return () => clearTimeout(timer);
};

/**
 * Several periods fit in one guard window of 5 s; a rest starts only between trees or epochs, so a much shorter
 * period would mostly be run over.
 */
export const DUTY_PERIOD_MS = 2000;

/**
 * Training for `share` of each period and resting for the rest: the steps between one training thread and a
 * pause. `onPhase` is called at each change the timer makes between training and resting; `set` calls nothing, as
 * its caller applies the new state itself.
 */
export class DutyCycle {
  private cancel?: () => void;
  private share?: number;
  private trainingNow = true;

  constructor(
    private readonly onPhase: (training: boolean) => void,
    private readonly schedule: Schedule = realSchedule,
    private readonly periodMs = DUTY_PERIOD_MS,
  ) {}

  /** Whether runs may train now: always, unless a share is set and this is its rest. */
  get training(): boolean {
    return this.trainingNow;
  }

  /** The share of each period to train (0 < share < 1), or undefined to train all the time; starts with training. */
  set(share: number | undefined): void {
    if (share === this.share) return;
    this.cancel?.();
    this.cancel = undefined;
    this.share = share;
    this.trainingNow = true;
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.share === undefined) return;
    const ms = (this.trainingNow ? this.share : 1 - this.share) * this.periodMs;
    this.cancel = this.schedule(() => {
      this.trainingNow = !this.trainingNow;
      this.onPhase(this.trainingNow);
      this.scheduleNext();
    }, ms);
  }
}
