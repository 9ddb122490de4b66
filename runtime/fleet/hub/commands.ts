import { randomUUID } from "node:crypto";
import * as v from "valibot";
import { EdgetrainError } from "../../errors.ts";
import { type CommandName, DeviceCommand } from "../protocol.ts";

type Command = v.InferOutput<typeof CommandName>;

import { signMessage } from "../signing.ts";
import type { HubKeys } from "./hub-key.ts";
import type { Registry } from "./registry.ts";

/** How long a device may still run a command it receives late (after a reconnection). */
export const COMMAND_LIFETIME_MS = 60 * 60_000;

export interface CommandRow {
  id: string;
  device: string;
  command: string;
  state: "pending" | "sent" | "done" | "failed";
  result: unknown;
  created_at: number;
  expires_at: number;
}

/**
 * Commands to devices, signed by the hub like announcements, and their results. A device on MQTT gets one
 * at once (QoS 1, its persistent session keeps it while offline); one on the HTTP transport with the
 * answer to its next heartbeat.
 */
export class Commands {
  constructor(
    private readonly registry: Registry,
    private readonly keys: HubKeys,
    private readonly send: (command: DeviceCommand) => void,
    private readonly now: () => number,
  ) {}

  issue(device: string, command: Command, args: Record<string, unknown>): DeviceCommand {
    const known = this.registry.db
      .query<{ transport: string }, [string]>("SELECT transport FROM devices WHERE id = ?")
      .get(device);
    if (!known)
      throw new EdgetrainError("not_found", `no device "${device}" has registered with the hub`, {
        details: { device },
      });
    const at = this.now();
    const message = signMessage(
      {
        type: "command" as const,
        id: randomUUID(),
        device,
        command,
        args,
        issued_at: new Date(at).toISOString(),
        expires_at: new Date(at + COMMAND_LIFETIME_MS).toISOString(),
      },
      this.keys,
    );
    // The signed message must be one the devices parse: a malformed command would be refused there anyway.
    const checked = v.parse(DeviceCommand, message);
    const byMqtt = known.transport === "mqtt";
    this.registry.db
      .query(
        `INSERT INTO commands (id, device, command, message, state, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        checked.id,
        device,
        command,
        JSON.stringify(checked),
        byMqtt ? "sent" : "pending",
        at,
        at + COMMAND_LIFETIME_MS,
      );
    if (byMqtt) this.send(checked);
    return checked;
  }

  /** The HTTP transport: commands waiting for the device, marked sent as they are handed over. */
  takePending(device: string): DeviceCommand[] {
    return this.registry.db.transaction(() => {
      const rows = this.registry.db
        .query<{ id: string; message: string }, [string, number]>(
          `SELECT id, message FROM commands
           WHERE device = ? AND state = 'pending' AND expires_at > ? ORDER BY created_at`,
        )
        .all(device, this.now());
      for (const row of rows) this.registry.db.query("UPDATE commands SET state = 'sent' WHERE id = ?").run(row.id);
      return rows.map((row) => JSON.parse(row.message) as DeviceCommand);
    })();
  }

  get(id: string): CommandRow | undefined {
    const row = this.registry.db
      .query<Omit<CommandRow, "result"> & { result: string | null }, [string]>(
        "SELECT id, device, command, state, result, created_at, expires_at FROM commands WHERE id = ?",
      )
      .get(id);
    return row ? { ...row, result: row.result === null ? null : JSON.parse(row.result) } : undefined;
  }
}
