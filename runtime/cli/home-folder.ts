import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { EdgetrainError } from "../errors.ts";
import { homeError } from "../files/make-home-folder.ts";
import { type ParsedArgs, stringFlag } from "./command.ts";

/**
 * The --home flag as given. An empty one (`--home ""`, an unset variable in a script) would resolve to the current
 * folder and fill it with a home's files, so it is refused rather than taken as ".".
 */
export function homeFlag(args: ParsedArgs): string | undefined {
  const flag = stringFlag(args, "home");
  if (flag === "")
    throw new EdgetrainError("usage", "--home is empty: name a folder", {
      hint: "for the current folder say --home .",
    });
  return flag;
}

/**
 * Refuses a home that is a file, or that sits under one, before any command makes folders in it: homeAndProfile(),
 * hubHome() and the demo call it. Makes nothing.
 */
export function checkHomeFolder(home: string, from: string): void {
  if (existsSync(home)) {
    if (!statSync(home).isDirectory())
      throw homeError(home, `home ${home} (${from}) is not a folder`, "give a folder, or a path where one can be made");
    return;
  }
  let above = dirname(home);
  while (!existsSync(above) && dirname(above) !== above) above = dirname(above);
  if (existsSync(above) && !statSync(above).isDirectory())
    throw homeError(home, `home ${home} (${from}) cannot be created: ${above} is not a folder`);
}
