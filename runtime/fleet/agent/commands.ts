import type { KeyObject } from "node:crypto";
import * as v from "valibot";
import type { DaemonView } from "../../api/daemon-view.ts";
import { EdgetrainError, messageOf } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import { CommandName, DeviceCommand, type DeviceReport } from "../protocol.ts";
import { checkSigned, issuesText } from "./trust.ts";

/** What a hub command may ask of the daemon: the calls the API makes for the same requests. */
export type CommandTarget = Pick<DaemonView, "requestRun" | "activate" | "rollback" | "logs">;

type CommandReport = Omit<Extract<DeviceReport, { kind: "command" }>, "id" | "device" | "at" | "kind">;

export interface CommandParts {
  device: string;
  trusted: readonly KeyObject[];
  target: () => CommandTarget;
  logger: Logger;
  report: (report: CommandReport) => void;
  /** Records a command id; false when it was seen before, even by an earlier start of the daemon. */
  firstSight: (id: string) => boolean;
  now?: () => number;
}

/** Lines `logs` sends at most, whatever the hub asks: a report stays a message, not a file. */
const MAX_LOG_LINES = 200;

/**
 * Runs the hub's commands (train, activate, rollback, logs) after checking their signature, shape, device
 * and expiry; a command that fails a check is logged and never run. Each gets a result report, a refused
 * one too where its id and name can be read.
 */
export class Commands {
  constructor(private readonly parts: CommandParts) {}

  async handle(raw: unknown): Promise<void> {
    const { device, trusted, logger, report } = this.parts;
    const checked = checkSigned(raw, DeviceCommand, trusted, device);
    const now = this.parts.now?.() ?? Date.now();
    let refusal = checked.ok ? undefined : checked.reason;
    if (checked.ok && Date.parse(checked.message.expires_at) < now)
      refusal = `expired at ${checked.message.expires_at}`;
    if (refusal !== undefined) {
      const partial = (checked.ok ? checked.message : checked.partial) ?? {};
      logger.warn(`refused a fleet command: ${refusal}`, { command: partial.command, id: partial.id });
      const name = v.safeParse(CommandName, partial.command);
      if (
        typeof partial.id === "string" &&
        name.success &&
        (partial.device === undefined || partial.device === device)
      ) {
        report({
          command_id: partial.id,
          command: name.output,
          ok: false,
          error: { code: "refused", message: `refused: ${refusal}` },
        });
      }
      return;
    }
    if (!checked.ok) return;
    const command = checked.message;
    // The broker delivers a QoS 1 command again after a reconnect that cut its acknowledgement short.
    if (!this.parts.firstSight(command.id)) {
      logger.debug("fleet command run already", { id: command.id });
      return;
    }
    logger.info(`fleet command ${command.command}`, { id: command.id, args: command.args });
    try {
      const result = await this.run(command.command, command.args);
      report({ command_id: command.id, command: command.command, ok: true, result });
    } catch (error) {
      const code = error instanceof EdgetrainError ? error.code : "command_failed";
      logger.warn(`fleet command ${command.command} failed: ${messageOf(error)}`, { id: command.id });
      report({
        command_id: command.id,
        command: command.command,
        ok: false,
        error: { code, message: messageOf(error) },
      });
    }
  }

  private async run(name: DeviceCommand["command"], args: Record<string, unknown>): Promise<unknown> {
    const target = this.parts.target();
    switch (name) {
      case "train": {
        const { job, key } = parseArgs(v.object({ job: v.string(), key: v.optional(v.string()) }), args);
        await target.requestRun(job, key, {});
        return { queued: { job, ...(key !== undefined && { key }) } };
      }
      case "activate": {
        const { model, version } = parseArgs(
          v.object({ model: v.string(), version: v.pipe(v.number(), v.integer()) }),
          args,
        );
        const active = await target.activate(model, version);
        return { model: active.model, version: active.version };
      }
      case "rollback": {
        const { model } = parseArgs(v.object({ model: v.string() }), args);
        const active = await target.rollback(model);
        return { model: active.model, version: active.version };
      }
      case "logs": {
        const { lines } = parseArgs(
          v.object({ lines: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))) }),
          args,
        );
        return { lines: target.logs({ limit: Math.min(lines ?? 50, MAX_LOG_LINES) }) };
      }
    }
  }
}

function parseArgs<S extends v.GenericSchema>(schema: S, args: Record<string, unknown>): v.InferOutput<S> {
  const parsed = v.safeParse(schema, args);
  if (parsed.success) return parsed.output;
  throw new EdgetrainError("bad_input", `bad command arguments: ${issuesText(parsed.issues, "args")}`);
}
