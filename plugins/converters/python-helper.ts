import { dirname, join } from "node:path";
import type { ConvertRequest, PluginContext, PluginLibraries } from "../../runtime/plugin-api.ts";
import { SupervisedTrainer, type TrainerReport } from "../shared/supervised-trainer.ts";

/** The options of every converter that runs a Python helper. */
export const pythonOptions = ({ v, duration }: PluginLibraries) => ({
  python: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description("The Python that has the framework. Default: python3 on the PATH, else /usr/bin/python3."),
    ),
  ),
  timeout: v.optional(
    v.pipe(duration, v.description("A helper that gives no sign of life (heartbeat) for this long is stopped.")),
    "5m",
  ),
});

export interface PythonSettings {
  python?: string;
  timeout: string | number;
}

/** A pyenv or virtualenv python3 comes first on the PATH; the system's may be the one with the framework. */
const DEFAULT_PYTHONS = ["python3", "/usr/bin/python3"];
const IMPORT_CHECK_MS = 120_000;

/**
 * The first Python that imports `module`: the configured one, else python3 on the PATH, else /usr/bin/python3.
 * Throws, naming each Python tried and why it would not do, how to install the framework and where to name a Python.
 */
export async function findPython(
  settings: PythonSettings,
  module: string,
  framework: { name: string; install: string; converter: string },
  signal: AbortSignal,
): Promise<string> {
  const tried: string[] = [];
  for (const python of settings.python ? [settings.python] : DEFAULT_PYTHONS) {
    const problem = await importProblem(python, module, signal);
    if (problem === undefined) return python;
    tried.push(`${Bun.which(python) ?? python} (${problem})`);
  }
  throw new Error(
    `${framework.name} is not installed for ${tried.join(", nor for ")}: install it (${framework.install}), ` +
      "or name a Python that has it in the profile: " +
      `converters: { ${framework.converter}: { python: /path/to/python3 } }`,
  );
}

/** Why `python` cannot import `module` (not found, no such module), or undefined when it can. */
async function importProblem(python: string, module: string, signal: AbortSignal): Promise<string | undefined> {
  let child: Bun.Subprocess<"ignore", "ignore", "pipe">;
  try {
    const options = { stdin: "ignore", stdout: "ignore", stderr: "pipe", signal } as const;
    child = Bun.spawn([python, "-c", `import ${module}`], options);
  } catch {
    return "not found";
  }
  const timer = setTimeout(() => child.kill(), IMPORT_CHECK_MS);
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]).finally(() =>
    clearTimeout(timer),
  );
  if (code === 0) return undefined;
  const last = stderr.trim().split("\n").at(-1) ?? "";
  return /No module named/.test(last) ? `no module ${module}` : last || `exit ${code}`;
}

/**
 * Runs a helper script under the same supervision as the command strategy's trainers (process group,
 * heartbeats, stop on abort); returns the artifact it reported. The model file's folder and the current
 * one are on PYTHONPATH, so that a pickled model's own classes can be imported.
 */
export async function runPythonHelper(
  context: PluginContext<PythonSettings>,
  request: ConvertRequest,
  python: string,
  script: { name: string; text: string },
  args: string[],
): Promise<string> {
  const scriptPath = join(request.workDir, script.name);
  await Bun.write(scriptPath, script.text);
  const { libraries } = context;
  const pythonPath = [dirname(request.file), process.cwd(), process.env.PYTHONPATH].filter(Boolean).join(":");
  const helper = new SupervisedTrainer(
    0,
    join(request.workDir, "helper"),
    {
      command: [python, scriptPath, ...args],
      env: { ...process.env, PYTHONUNBUFFERED: "1", PYTHONPATH: pythonPath },
      heartbeatTimeoutMs: libraries.durationMs(context.options.timeout),
      onStall: "kill",
      maxRestarts: 0,
      graceMs: 5_000,
      logTailLines: 40,
      processGroupMembers: libraries.processGroupMembers,
      diesWithEdgetrain: libraries.diesWithEdgetrain,
      writeAtomically: (path, content) => libraries.writeAtomically(path, content),
    },
    context.events,
    { update: (done, total) => request.progress.update(done, total, total ? `${done}/${total}` : undefined) },
  );
  const report = await helper.run(request.signal);
  if (report.status === "succeeded" && report.artifact) return report.artifact.path;
  throw new Error(failureOf(report, context.options.timeout));
}

/** The helper's own words (its last `edgetrain: ` line), else what the supervisor saw, with the log's tail. */
function failureOf(report: TrainerReport, timeout: string | number): string {
  if (report.status === "cancelled") return "interrupted";
  if (report.status === "stalled") return `the helper gave no sign of life for ${timeout} (timeout); stopped`;
  const said = report.logTail.findLast((line) => line.startsWith("edgetrain: "));
  if (said) return said.slice("edgetrain: ".length);
  return `${report.error ?? "the helper failed"}`.replace(/^worker 0 /, "the helper ");
}
