import { EdgetrainError } from "../errors.ts";

/**
 * useradd's own default pattern, less its trailing `$` (Samba's machine accounts): systemd reads `User=` up to the
 * end of the line, so a name with a newline would add lines to the unit, and an empty one leaves the unit root's.
 */
const USER_NAME = /^[a-z_][a-z0-9_-]*$/;
/** useradd's limit (utmp's field). */
const MAX_LENGTH = 32;

/** Why `name` cannot be the user a system unit runs as; undefined when it can. */
export function serviceUserProblem(name: string): string | undefined {
  if (name === "") return "an empty user name would leave the unit to run as root";
  if (name === "root") return "the service must not run as root";
  if (/^\d+$/.test(name)) return `${name} is a numeric id: give a user name (uid 0 is root)`;
  if (name.length > MAX_LENGTH) return `${JSON.stringify(name)} is longer than ${MAX_LENGTH} characters`;
  if (!USER_NAME.test(name))
    return (
      `${JSON.stringify(name)} is not a user name: lower-case letters, digits, _ and -, ` +
      "starting with a letter or _"
    );
  return undefined;
}

/** The user a system unit runs as, or a usage error naming where the name came from (`--run-as`, `SUDO_USER`). */
export function checkServiceUser(name: string, source: string): string {
  const problem = serviceUserProblem(name);
  if (problem === undefined) return name;
  throw new EdgetrainError("usage", `${source}: ${problem}`, {
    hint: "give --run-as USER, a user such as edgetrain (scripts/install.sh adds it)",
  });
}
