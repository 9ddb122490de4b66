import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtinProfiles } from "../../config/builtin-profiles.ts";
import { EdgetrainError } from "../../errors.ts";
import { makeHomeFolder } from "../../files/make-home-folder.ts";
import { detectJetson } from "../../hardware/jetson.ts";
import { fittingProfile } from "../../hardware/profile-fit.ts";
import { memoryInfo } from "../../hardware/sensors.ts";
import { type Command, stringFlag } from "../command.ts";
import { homeAndProfile, homeOptions } from "../home.ts";
import { writeAnswer } from "../json-answer.ts";

export const setupCommand: Command = {
  name: "setup",
  summary: "create the home and its folders and write a starter profile",
  description:
    "Creates the home (default ~/.edgetrain) with data/, models/, cache/, logs/, state/ and plugins/, and writes " +
    "profile.yaml extending the built-in profile that fits this machine (or --extends NAME).",
  options: {
    home: homeOptions.home,
    extends: {
      type: "string",
      value: "NAME",
      description: "the built-in profile to extend (default: the one that fits this machine)",
    },
    force: { type: "boolean", description: "replace an existing profile.yaml (kept otherwise)" },
  },
  examples: ["edgetrain setup", "edgetrain setup --home /data/edgetrain --extends jetson-nano"],
  async run(args, io) {
    const { home } = homeAndProfile(args, io);
    const root = io.environment.hostRoot;
    const chosen =
      stringFlag(args, "extends") ??
      fittingProfile({
        jetson: detectJetson(root),
        nvidiaGpu: existsSync(join(root, "dev/nvidia0")),
        memoryMb: memoryInfo(root)?.totalMb,
      }).profile;
    if (!(chosen in builtinProfiles)) {
      throw new EdgetrainError("usage", `--extends ${chosen}: not a built-in profile`, {
        hint: `built-in profiles: ${Object.keys(builtinProfiles).join(", ")}`,
      });
    }
    makeHomeFolder(
      home,
      ["data", "models", "cache", "logs", "state", "plugins"].map((dir) => join(home, dir)),
    );
    const file = join(home, "profile.yaml");
    const kept = existsSync(file) && !args.values.force;
    if (!kept) writeFileSync(file, starterProfile(chosen, home));
    const next = `edgetrain validate --home ${home} && edgetrain run --home ${home}`;
    const said = kept ? `kept ${file} (use --force to replace it)` : `wrote ${file} (extends ${chosen})`;
    writeAnswer(
      io,
      args,
      { home, profile: file, written: !kept, extends: kept ? null : chosen, next },
      `${said}\nhome ready: ${home}\nnext: ${next}\n`,
    );
    return 0;
  },
};

function starterProfile(base: string, home: string): string {
  return `# edgetrain profile, written by \`edgetrain setup\`. Check it with \`edgetrain validate\`.
# Everything not set here comes from the built-in profile "${base}": see \`edgetrain profile show --resolved\`.
extends: ${base}
paths:
  home: ${home}
# api:
#   token: \${EDGETRAIN_TOKEN}   # needed for any host other than 127.0.0.1
# jobs:
#   activity:
#     strategy: random-forest
#     data: { source: sessions, path: athlete_training_data, sessions_to_use: 3 }
#     triggers: [{ type: manual }]
`;
}
