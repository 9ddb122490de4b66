/** What the gate step records on a model version (plugins/deploy/gate.ts). */
type GateRecord = { metric?: string; candidate?: number; active?: number; active_version?: number; rows?: number; passed?: boolean };

/**
 * The gate's decision in words, for the CLI and the demo: "passed: accuracy 0.9011 vs 0.8611 of version 1
 * on 900 held-out rows". Undefined for a version that no gate scored.
 */
export function gateVerdict(recorded: unknown): string | undefined {
  const gate = recorded as GateRecord | undefined;
  if (!gate?.metric) return undefined;
  const compared = gate.active !== undefined ? ` vs ${gate.active}${gate.active_version !== undefined ? ` of version ${gate.active_version}` : ""}` : " (no active version to compare with)";
  const rows = gate.rows !== undefined ? ` on ${gate.rows} held-out rows` : "";
  return `${gate.passed ? "passed" : "rejected"}: ${gate.metric} ${gate.candidate}${compared}${rows}`;
}
