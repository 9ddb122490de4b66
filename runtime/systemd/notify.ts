import type { Environment } from "../environment.ts";
import { sendUnixDatagram } from "../os/unix-datagram.ts";
import type { Logger } from "../plugin-api.ts";

/**
 * The daemon's side of systemd's notify protocol (sd_notify): READY=1 once it serves, RELOADING=1 and
 * READY=1 around a reload, STOPPING=1 at stop, and WATCHDOG=1 from the event loop at half the watchdog
 * interval, so that a daemon whose loop hangs is killed and restarted. Does nothing outside systemd
 * (no NOTIFY_SOCKET).
 */
export class ServiceNotifier {
  private watchdog?: ReturnType<typeof setInterval>;
  /** A refused message is logged once; later ones are still tried. */
  private warned = false;

  constructor(
    private readonly environment: Pick<Environment, "notifySocket" | "watchdog">,
    private readonly logger: Pick<Logger, "warn">,
  ) {}

  /** Ready, with a status line for `systemctl status`; starts the watchdog's heartbeat. */
  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${status}`);
    this.startWatchdog();
  }

  reloading(): void {
    this.send("RELOADING=1");
  }

  stopping(): void {
    this.stopWatchdog();
    this.send("STOPPING=1");
  }

  dispose(): void {
    this.stopWatchdog();
  }

  private startWatchdog(): void {
    const watchdog = this.environment.watchdog;
    // WATCHDOG_PID names the process systemd watches; a child that inherited the variables stays silent.
    if (!watchdog || this.watchdog || (watchdog.pid !== undefined && watchdog.pid !== process.pid)) return;
    const everyMs = Math.max(1, Math.floor(watchdog.usec / 2000));
    this.watchdog = setInterval(() => this.send("WATCHDOG=1"), everyMs);
    // The heartbeat must never be what keeps the process alive.
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private send(message: string): void {
    const socket = this.environment.notifySocket;
    if (!socket || sendUnixDatagram(socket, message) || this.warned) return;
    this.warned = true;
    this.logger.warn(`could not tell systemd (${message.split("\n")[0]}) on its notify socket ${socket}`, {
      hint: "without READY=1 systemd gives up after TimeoutStartSec: use Type=simple where libc cannot be called",
    });
  }
}
