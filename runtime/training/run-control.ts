import { PauseSwitch } from "./pause-switch.ts";
import { ThreadAllowance } from "./thread-allowance.ts";

/**
 * Who may pause a run: the governor (the machine is busy) and a person (`edgetrain pause RUN`). The run is
 * paused while either wants it, so the governor resuming does not undo a person's pause.
 */
export class RunControl {
  readonly pause = new PauseSwitch();
  /** Only the governor narrows a run's threads; a person pauses or cancels it. */
  readonly threads = new ThreadAllowance();
  readonly abort = new AbortController();
  private byGovernor = false;
  private byPerson = false;

  governorPause(paused: boolean): void {
    this.byGovernor = paused;
    this.apply();
  }

  /** Whether a person's pause holds the run (a resume request undoes only that). */
  get pausedByPerson(): boolean {
    return this.byPerson;
  }

  get pausedByGovernor(): boolean {
    return this.byGovernor;
  }

  personPause(paused: boolean): void {
    this.byPerson = paused;
    this.apply();
  }

  private apply(): void {
    this.pause.set(this.byGovernor || this.byPerson);
  }
}
