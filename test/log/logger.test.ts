import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fieldText, LogSink } from "../../runtime/log/logger.ts";

const sinkWithConsole = (level: "debug" | "info" = "info") => {
  const file = join(mkdtempSync(join(tmpdir(), "edgetrain-log-")), "logs", "edgetrain.log");
  let printed = "";
  const sink = new LogSink({ level, file, console: { write: (text) => void (printed += text), isTTY: false, color: false } });
  return { sink, file, printed: () => printed };
};

describe("log lines", () => {
  test("the console shows metrics to four significant digits; the file keeps every digit", () => {
    const { sink, file, printed } = sinkWithConsole();
    sink.logger({ job: "activity" }).info("run succeeded", { accuracy: 0.7388888888888889, rmse: 12.345678, rows: 1800, lr: 0.00001234 });
    sink.close();
    expect(printed()).toContain("run succeeded  job=activity accuracy=0.7389 rmse=12.346 rows=1800 lr=0.00001234");
    const line = JSON.parse(readFileSync(file, "utf8").trim());
    expect(line).toMatchObject({ level: "info", msg: "run succeeded", job: "activity", accuracy: 0.7388888888888889, rmse: 12.345678 });
  });

  test("secrets are redacted in the file and on the console", () => {
    const { sink, file, printed } = sinkWithConsole();
    sink.logger().warn("token rejected", { token: "s3cret-value", api_password: "hunter2", path: "/v1/jobs" });
    sink.close();
    for (const text of [printed(), readFileSync(file, "utf8")]) {
      expect(text).not.toContain("s3cret-value");
      expect(text).not.toContain("hunter2");
      expect(text).toContain("[redacted]");
      expect(text).toContain("/v1/jobs");
    }
  });

  test("lines below the level are dropped", () => {
    const { sink, file, printed } = sinkWithConsole("info");
    sink.logger().debug("noise");
    sink.logger().info("kept");
    sink.close();
    expect(printed()).not.toContain("noise");
    expect(readFileSync(file, "utf8")).not.toContain("noise");
    expect(printed()).toContain("kept");
  });

  test("field text: strings as they are, whole numbers and other values as JSON", () => {
    expect(fieldText("player_7")).toBe("player_7");
    expect(fieldText(30)).toBe("30");
    expect(fieldText(-0.123456)).toBe("-0.1235");
    expect(fieldText(Number.NaN)).toBe("null");
    expect(fieldText(["player_7"])).toBe('["player_7"]');
  });
});
