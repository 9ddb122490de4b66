import { Box, Text } from "ink";
import type { ModelDetail } from "../../runtime/api/contract.ts";
import { EmptyList } from "../components/filter-line.tsx";
import { metricsShort } from "../components/gauges.tsx";
import { useColor } from "../components/theme.tsx";
import { chartPoints, VersionChart } from "../components/version-chart.tsx";
import type { DaemonSnapshot } from "../use-daemon.ts";

export interface ModelsView {
  selected: number;
  detail?: ModelDetail;
  version: number;
  confirm?: { action: "activate" | "rollback"; model: string; version?: number };
}

const CHART_HEIGHT = 5;

/** Models; Enter lists a model's versions with metrics and gate results; a activates, r rolls back, each confirmed. */
export function Models(props: { snapshot: DaemonSnapshot; view: ModelsView; height: number; filter?: string }) {
  const { snapshot, view, height, filter } = props;
  const color = useColor();
  const confirm = view.confirm ? (
    <Text color={color("yellow")} bold>
      {view.confirm.action === "activate"
        ? `Activate ${view.confirm.model} version ${view.confirm.version}?`
        : `Roll ${view.confirm.model} back to the version before?`}{" "}
      [y] yes [n] no
    </Text>
  ) : null;
  if (view.detail) {
    // The chart takes its height plus its title and bottom line, when there is room for versions below it.
    const chart = chartPoints(view.detail.versions).points.length >= 2 && height >= 16 ? CHART_HEIGHT + 2 : 0;
    const versions = view.detail.versions.slice(0, Math.max(1, height - 4 - chart));
    return (
      <Box flexDirection="column">
        <Text bold>
          {view.detail.model} · active v{view.detail.active ?? "-"} · {view.detail.feature_names?.length ?? 0} features
          {view.detail.classes?.length ? ` · classes ${view.detail.classes.join(", ")}` : ""}
        </Text>
        {chart ? <VersionChart versions={view.detail.versions} height={CHART_HEIGHT} /> : null}
        {versions.map((version, i) => {
          const gate = version.gate as
            | { metric?: string; candidate?: number; active?: number; passed?: boolean }
            | undefined;
          return (
            <Text key={version.version} inverse={i === view.version} wrap="truncate">
              {i === view.version ? "› " : "  "}v{String(version.version).padEnd(4)}
              <Text
                color={color(
                  version.status === "active"
                    ? "green"
                    : version.status === "rejected" || version.status === "rolled_back"
                      ? "red"
                      : "white",
                )}
              >
                {version.status.padEnd(12)}
              </Text>
              {metricsShort(version.metrics, 2).padEnd(28)}
              {gate?.metric
                ? ` gate ${gate.passed ? "passed" : "rejected"} ` +
                  `${gate.candidate}${gate.active !== undefined ? ` vs ${gate.active}` : ""}`
                : ""}
              {version.note ? ` ${version.note.slice(0, 40)}` : ""}
            </Text>
          );
        })}
        {confirm ?? <Text dimColor>↑↓ version · a activate · r roll back · Esc back</Text>}
      </Box>
    );
  }
  const rows = snapshot.models.slice(0, Math.max(1, height - 2));
  return (
    <Box flexDirection="column">
      <Text bold>{"  MODEL                           ACTIVE  VERSIONS  METRICS"}</Text>
      {rows.map((model, i) => (
        <Text key={model.model} inverse={i === view.selected} wrap="truncate">
          {i === view.selected ? "› " : "  "}
          {model.model.padEnd(32).slice(0, 32)} {String(model.active ?? "-").padEnd(7)}{" "}
          {String(model.versions).padEnd(9)} {metricsShort(model.metrics, 2)}
        </Text>
      ))}
      {rows.length === 0 ? (
        <EmptyList filter={filter} none="no models yet: a job's first successful run adds one" />
      ) : null}
      {confirm}
    </Box>
  );
}
