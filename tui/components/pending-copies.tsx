import { Text } from "ink";
import type { DaemonStatus } from "../../runtime/api/contract.ts";
import { useColor } from "./theme.tsx";

const SHOWN = 2;

/** Lines the pending copies take on the overview: none without any, else a heading and the oldest few. */
export function pendingCopiesLines(status: DaemonStatus): number {
  return status.copies.length ? 1 + Math.min(SHOWN, status.copies.length) : 0;
}

/** copy-to-dir copies waiting for their predictors to go quiet: the predictors' folder is on an older version. */
export function PendingCopies({ status, width }: { status: DaemonStatus; width: number }) {
  const color = useColor();
  const { copies } = status;
  if (!copies.length) return null;
  return (
    <>
      <Text bold color={color("yellow")}>
        Pending copies ({copies.length}): retried when their predictors go quiet
      </Text>
      {copies.slice(0, SHOWN).map((copy) => (
        <Text key={copy.target} wrap="truncate">
          {"  "}
          {copy.restore ? `rollback of ${copy.model} to v${copy.version}` : `${copy.model} v${copy.version}`}
          {` → ${copy.target}`}
          {copy.reason ? ` — ${copy.reason.slice(0, Math.max(20, width - 60))}` : ""}
        </Text>
      ))}
    </>
  );
}
