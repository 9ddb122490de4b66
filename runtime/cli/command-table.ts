import type { Command } from "./command.ts";
import { cacheCommand } from "./commands/cache.ts";
import { checkCommand } from "./commands/check.ts";
import { completionCommand } from "./commands/completion.ts";
import { decisionsCommand } from "./commands/decisions.ts";
import { demoCommand } from "./commands/demo.ts";
import { fitCommand } from "./commands/fit.ts";
import { fleetCommand } from "./commands/fleet.ts";
import { holdCommand } from "./commands/hold.ts";
import { hubCommand } from "./commands/hub.ts";
import { activateCommand, modelCommand, modelsCommand, rollbackCommand } from "./commands/models.ts";
import { planCommand } from "./commands/plan.ts";
import { pluginsCommand } from "./commands/plugins.ts";
import { predictCommand } from "./commands/predict.ts";
import { profileCommand } from "./commands/profile.ts";
import { runCommand } from "./commands/run.ts";
import { cancelCommand, pauseCommand, resumeCommand } from "./commands/run-control.ts";
import { runsCommand } from "./commands/runs.ts";
import { serviceCommand } from "./commands/service.ts";
import { setupCommand } from "./commands/setup.ts";
import { statusCommand } from "./commands/status.ts";
import { trainCommand } from "./commands/train.ts";
import { tuiCommand } from "./commands/tui.ts";
import { validateCommand } from "./commands/validate.ts";

/** Every command, in the order `edgetrain --help` lists them; help and the completion scripts come from it. */
export const commands: readonly Command[] = [
  demoCommand,
  setupCommand,
  checkCommand,
  validateCommand,
  profileCommand,
  pluginsCommand,
  runCommand,
  statusCommand,
  planCommand,
  trainCommand,
  runsCommand,
  decisionsCommand,
  cancelCommand,
  pauseCommand,
  resumeCommand,
  fitCommand,
  predictCommand,
  modelsCommand,
  modelCommand,
  activateCommand,
  rollbackCommand,
  cacheCommand,
  holdCommand,
  serviceCommand,
  hubCommand,
  fleetCommand,
  tuiCommand,
  completionCommand(() => commands),
];
