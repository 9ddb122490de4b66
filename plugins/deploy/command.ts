import type {
  DeployCandidate,
  DeployHooks,
  OptionsOf,
  PluginContext,
  PluginLibraries,
  PluginModule,
} from "../../runtime/plugin-api.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    run: v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        "Shell command run after the previous steps, e.g. `systemctl restart ml-inference`. Gets EDGETRAIN_MODEL, " +
          "EDGETRAIN_VERSION, EDGETRAIN_MODEL_PATH, EDGETRAIN_JOB, EDGETRAIN_KEY.",
      ),
    ),
    timeout: v.optional(duration, "2m"),
    health: v.optional(
      v.strictObject({
        command: v.optional(v.pipe(v.string(), v.description("Healthy when it exits 0."))),
        url: v.optional(v.pipe(v.string(), v.url(), v.description("Healthy when it answers 2xx."))),
        attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 5),
        interval: v.optional(duration, "2s"),
        timeout: v.optional(duration, "10s"),
      }),
    ),
  });

type Options = OptionsOf<typeof options>;

/**
 * Runs a hook (restart a service that serves the model), then a health check (a command or a URL). If
 * either fails, the previous version is restored, the hook runs again for it, and the rollback is recorded.
 */
function commandStep(context: PluginContext<Options>): DeployHooks {
  const { durationMs } = context.libraries;
  const { run, timeout, health } = context.options;
  const modelPath = (candidate: DeployCandidate, version: number) =>
    `${context.paths.models}/${candidate.model}/${version}/model.onnx`;
  const envFor = (candidate: DeployCandidate, version: number, rollback: boolean) => ({
    ...process.env,
    EDGETRAIN_MODEL: candidate.model,
    EDGETRAIN_VERSION: String(version),
    EDGETRAIN_MODEL_PATH: modelPath(candidate, version),
    EDGETRAIN_JOB: candidate.job,
    EDGETRAIN_KEY: candidate.key ?? "",
    ...(rollback ? { EDGETRAIN_ROLLBACK: "1" } : {}),
  });
  return {
    async deploy(candidate) {
      const hook = await shell(run, envFor(candidate, candidate.version, false), durationMs(timeout), context.signal);
      const problem = hook.ok
        ? await healthProblem(health, candidate, envFor(candidate, candidate.version, false))
        : `hook \`${run}\` ${hook.message}`;
      if (!problem) return { ok: true, message: `hook ran${health ? "; healthy" : ""}` };
      context.logger.error(
        `deploy hook failed for model ${candidate.model} version ${candidate.version}; rolling back`,
        { reason: problem },
      );
      await candidate.rollback(problem);
      if (candidate.previousVersion !== undefined) {
        const again = await shell(
          run,
          envFor(candidate, candidate.previousVersion, true),
          durationMs(timeout),
          context.signal,
        );
        if (!again.ok)
          context.logger.error(`hook failed again after the rollback to version ${candidate.previousVersion}`, {
            reason: again.message,
          });
      }
      return { ok: false, message: problem, rolledBack: true };
    },
  };

  async function healthProblem(
    check: Options["health"],
    candidate: DeployCandidate,
    env: Record<string, string | undefined>,
  ): Promise<string | undefined> {
    if (!check || (!check.command && !check.url)) return undefined;
    let last = "";
    for (let attempt = 1; attempt <= check.attempts; attempt++) {
      if (check.command) {
        const result = await shell(check.command, env, durationMs(check.timeout), context.signal);
        if (result.ok) return undefined;
        last = `health check \`${check.command}\` ${result.message}`;
      } else {
        try {
          const response = await fetch(check.url!, { signal: AbortSignal.timeout(durationMs(check.timeout)) });
          if (response.ok) return undefined;
          last = `health check ${check.url} answered ${response.status}`;
        } catch (error) {
          last = `health check ${check.url} failed: ${(error as Error).message}`;
        }
      }
      if (attempt < check.attempts) await Bun.sleep(durationMs(check.interval));
    }
    return `${last} (${check.attempts} attempts, model ${candidate.model} version ${candidate.version})`;
  }
}

/** How long output is still read once the hook has exited: a process it left in the background may hold the pipes. */
const DRAIN_MS = 100;
/** Only the end of a hook's output goes into the message; a chatty hook must not grow the daemon. */
const KEEP_BYTES = 16 * 1024;

/**
 * Runs `command` with sh in a process group of its own, so that a timeout or a cancelled run kills
 * everything the hook started, not only the shell: a child left behind would keep the pipes open and the
 * deploy waiting. A process the hook deliberately leaves running after it exits 0 is left alone.
 */
async function shell(
  command: string,
  env: Record<string, string | undefined>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ ok: boolean; message: string }> {
  const child = Bun.spawn(["sh", "-c", command], {
    env,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    detached: true,
  });
  const kill = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  };
  const timer = setTimeout(kill, timeoutMs);
  signal.addEventListener("abort", kill, { once: true });
  const out = outputTail(child.stdout);
  const err = outputTail(child.stderr);
  const code = await child.exited;
  clearTimeout(timer);
  signal.removeEventListener("abort", kill);
  await Promise.race([Promise.all([out.done, err.done]), Bun.sleep(DRAIN_MS)]);
  const tail = (err.text() || out.text()).trim().split("\n").slice(-3).join(" | ").slice(0, 300);
  if (code === 0) return { ok: true, message: "exited 0" };
  const ending = child.signalCode ? `was killed (${child.signalCode}, timeout ${timeoutMs} ms)` : `exited ${code}`;
  return { ok: false, message: `${ending}${tail ? `: ${tail}` : ""}` };
}

/** Reads a stream in the background, keeping its last KEEP_BYTES; `text()` is what has arrived so far. */
function outputTail(stream: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  let kept = "";
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        kept = (kept + decoder.decode(chunk.value, { stream: true })).slice(-KEEP_BYTES);
    } catch {
      // The pipe broke: what arrived is all there is.
    }
  })();
  return { done, text: () => kept };
}

export default {
  kind: "deploy",
  name: "command",
  version: "1.0.0",
  description: "Runs a hook and a health check; rolls back to the previous version when either fails.",
  options,
  setup: commandStep,
} satisfies PluginModule<"deploy", ReturnType<typeof options>>;
