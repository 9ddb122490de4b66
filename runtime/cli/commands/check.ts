import { checkMachine } from "../../hardware/check.ts";
import { glibcVersion } from "../../hardware/glibc.ts";
import { probeOnnxRuntime } from "../../inference/probe.ts";
import type { Command } from "../command.ts";
import { homeOptions, loadHomeProfile } from "../home.ts";
import { writeJson } from "../json-answer.ts";

const MARK = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;
const COLOR = { ok: "\x1b[32m", warn: "\x1b[33m", fail: "\x1b[31m" } as const;

export const checkCommand: Command = {
  name: "check",
  summary: "detect the hardware and tell what will work here",
  description:
    "Reports CPU, memory, disk free under the home, kernel and glibc, Jetson model and JetPack/L4T, CUDA, GPU load " +
    "and temperature sources, whether ONNX Runtime loads (and its execution providers), and which built-in profile " +
    "fits this machine. Each line is ok, warn or FAIL with the reason.\n\n" +
    "Exit code 1 if any line fails.",
  options: {
    json: { type: "boolean", description: "print one JSON document: {ok, lines: [{name, status, detail, data}]}" },
    profile: { ...homeOptions.profile, description: "profile whose home and inference backend to use" },
    home: homeOptions.home,
  },
  examples: ["edgetrain check", "edgetrain check --json --home /data/edgetrain"],
  async run(args, io) {
    const { loaded, paths } = loadHomeProfile(args, io);
    // check must work even with a broken profile: fall back to the home's default layout.
    const report = await checkMachine({
      root: io.environment.hostRoot,
      home: paths.home,
      cacheDir: paths.cache,
      inferenceBackend: loaded.profile?.inference.backend ?? "auto",
      glibc: glibcVersion(),
      which: (command) => Bun.which(command),
      probeOnnxRuntime,
    });
    if (args.values.json) {
      writeJson(io, report, { indent: true });
    } else {
      const width = Math.max(...report.lines.map((line) => line.name.length));
      for (const line of report.lines) {
        const mark = io.color ? `${COLOR[line.status]}${MARK[line.status]}\x1b[0m` : MARK[line.status];
        io.stdout.write(`${mark}  ${line.name.padEnd(width)}  ${line.detail}\n`);
      }
    }
    return report.ok ? 0 : 1;
  },
};
