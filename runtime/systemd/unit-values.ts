import { EdgetrainError } from "../errors.ts";

/** A value the unit is written with, and where it came from, for the error that refuses it. */
export interface UnitValue {
  /** `--profile`, `--exec`, `paths.models`: what the user changes to fix it. */
  from: string;
  value: string;
  /** From the profile: its refusal is the profile's problem (exit 3), not the command line's (exit 2). */
  inProfile?: boolean;
}

/**
 * systemd reads each setting to the end of its line and has no escape for a line break outside a quoted
 * word: a value holding one would add settings of its own (`User=root`, `ExecStartPre=`). Such values are
 * refused rather than escaped; no real path, profile or user name needs them.
 */
export function refuseLineBreaks(values: UnitValue[]): void {
  const bad = values.find(({ value }) => /\p{Cc}/u.test(value));
  if (!bad) return;
  throw new EdgetrainError(
    bad.inProfile ? "profile_invalid" : "usage",
    `${bad.from} ${JSON.stringify(bad.value)} has a line break or control character, which would write settings ` +
      "of its own into the systemd unit",
    { hint: "rename the file or folder, or give another one" },
  );
}

/** A value as systemd reads it back: `%` starts a specifier. For a setting taken to the end of the line. */
export function literal(value: string): string {
  return value.replaceAll("%", "%%");
}

/** A path as one systemd word: `%` is a specifier, and spaces, quotes and backslashes need a quoted word. */
export function quoted(path: string): string {
  const escaped = literal(path);
  return /[\s"'\\;]/.test(escaped) ? JSON.stringify(escaped) : escaped;
}

/** A word of ExecStart=, where systemd also replaces `$NAME` and `${NAME}` with the environment's values. */
export function commandWord(word: string): string {
  return quoted(word.replaceAll("$", () => "$$"));
}
