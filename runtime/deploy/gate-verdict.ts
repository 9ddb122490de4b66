/** What the gate step records on a model version (plugins/deploy/gate.ts). */
type GateRecord = {
  metric?: string;
  candidate?: number | null;
  active?: number;
  active_version?: number;
  damaged_version?: number;
  damaged_file?: string;
  rows?: number;
  passed?: boolean;
  reason?: string;
};

/**
 * The gate's decision in words, for the CLI and the demo: "passed: accuracy 0.9011 vs 0.8611 of version 1
 * on 900 held-out rows". Undefined for a version that no gate scored.
 */
export function gateVerdict(recorded: unknown): string | undefined {
  const gate = recorded as GateRecord | undefined;
  if (!gate?.metric) return undefined;
  // A candidate that could not be scored, or an active version scored another way: the reason says it all.
  if (gate.candidate === null && gate.reason) return gate.reason;
  if (gate.active === undefined && gate.active_version !== undefined && gate.reason)
    return `passed: ${gate.metric} ${gate.candidate}; ${gate.reason}`;
  const rows = gate.rows !== undefined ? ` on ${gate.rows} held-out rows` : "";
  const decided = `${gate.passed ? "passed" : "rejected"}: ${gate.metric} ${gate.candidate}`;
  if (gate.damaged_version !== undefined)
    return (
      `${decided}${rows}; the active version ${gate.damaged_version} is damaged (file ${gate.damaged_file}): ` +
      `compared against nothing`
    );
  const compared =
    gate.active !== undefined
      ? ` vs ${gate.active}${gate.active_version !== undefined ? ` of version ${gate.active_version}` : ""}`
      : " (no active version to compare with)";
  return `${decided}${compared}${rows}`;
}
