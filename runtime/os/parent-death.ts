/**
 * Bun's spawn has no way to run code in the child before exec, so PR_SET_PDEATHSIG is set by util-linux's
 * `setpriv --pdeathsig KILL`, which sets it and execs the command in the same process (same pid, same start time).
 */

let setpriv: string | null | undefined;

/** setpriv's path where `--pdeathsig` works (util-linux 2.33 and later); null where not (BusyBox, older ones). */
export function workingSetpriv(): string | null {
  if (setpriv === undefined) {
    const found = Bun.which("setpriv");
    const works = found !== null && Bun.spawnSync([found, "--pdeathsig", "KILL", "--", found, "--version"]).success;
    setpriv = works ? found : null;
  }
  return setpriv;
}

/**
 * The command to spawn so that the kernel kills its process (SIGKILL) when the thread that spawns it dies, and
 * so the edgetrain process: `setpriv --pdeathsig KILL --` in front where that works. As given where it does
 * not, or where the program cannot be found, so that the spawn fails as it would have.
 */
export function diesWithEdgetrain(
  command: string[],
  options: { cwd: string; env: Record<string, string | undefined> },
) {
  const wrapper = workingSetpriv();
  const program = command[0];
  if (!wrapper || !program || !Bun.which(program, { cwd: options.cwd, PATH: options.env.PATH ?? "" })) return command;
  return [wrapper, "--pdeathsig", "KILL", "--", ...command];
}
