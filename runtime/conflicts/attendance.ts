/**
 * Who could answer a conflict question now: the clients following the daemon's conflict events (a TUI,
 * an SSE subscriber). A headless daemon asks only while one is attached.
 */
export class Attendance {
  private attached = 0;

  /** A client that can answer is attached until the returned function is called (once is enough). */
  attend(): () => void {
    this.attached++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.attached--;
    };
  }

  present(): boolean {
    return this.attached > 0;
  }

  /** How many are attached now. */
  clients(): number {
    return this.attached;
  }
}
