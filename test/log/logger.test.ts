import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLogTail } from "../../runtime/log/log-tail.ts";
import { fieldText, LogSink } from "../../runtime/log/logger.ts";
import { tinyDisk, tinyDiskUnavailable } from "../tiny-disk.ts";

const sinkWithConsole = (level: "debug" | "info" = "info") => {
  const file = join(mkdtempSync(join(tmpdir(), "edgetrain-log-")), "logs", "edgetrain.log");
  let printed = "";
  const sink = new LogSink({
    level,
    file,
    console: { write: (text) => void (printed += text), isTTY: false, color: false },
  });
  return { sink, file, printed: () => printed };
};

describe("log lines", () => {
  test("the console shows metrics to four significant digits; the file keeps every digit", () => {
    const { sink, file, printed } = sinkWithConsole();
    sink
      .logger({ job: "activity" })
      .info("run succeeded", { accuracy: 0.7388888888888889, rmse: 12.345678, rows: 1800, lr: 0.00001234 });
    sink.close();
    expect(printed()).toContain("run succeeded  job=activity accuracy=0.7389 rmse=12.346 rows=1800 lr=0.00001234");
    const line = JSON.parse(readFileSync(file, "utf8").trim());
    expect(line).toMatchObject({
      level: "info",
      msg: "run succeeded",
      job: "activity",
      accuracy: 0.7388888888888889,
      rmse: 12.345678,
    });
  });

  test("a field left undefined is absent on the console, as in the file", () => {
    const { sink, printed } = sinkWithConsole();
    sink.logger().info("run skipped", { job: "cmd", key: undefined, reason: "already queued" });
    sink.close();
    expect(printed()).toContain("run skipped  job=cmd reason=already queued\n");
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

  test(
    "a log past max size becomes <file>.1, older ones shift, the oldest is dropped; the tail reads across the " +
      "rotation",
    () => {
      const file = join(mkdtempSync(join(tmpdir(), "edgetrain-log-")), "edgetrain.log");
      const rotate = { maxBytes: 1000, keep: 2 };
      const sink = new LogSink({ level: "info", file, rotate });
      // A second process appending to the same log (edgetrain train beside the daemon) rotates it too.
      const other = new LogSink({ level: "info", file, rotate });
      for (let n = 1; n <= 40; n++) (n % 2 ? sink : other).logger().info(`line ${n}`, { padding: "x".repeat(60) });
      sink.close();
      other.close();
      const numbers = (path: string) =>
        readFileSync(path, "utf8")
          .trim()
          .split("\n")
          .map((raw) => Number((JSON.parse(raw) as { msg: string }).msg.slice(5)));
      const files = [`${file}.2`, `${file}.1`, file];
      // A line (about 130 bytes) past the limit at most, and one more from the process that had not reopened yet.
      for (const path of files.slice(0, 2)) expect(statSync(path).size).toBeLessThan(1000 + 2 * 140);
      expect(existsSync(`${file}.3`)).toBe(false);
      // Every line is in exactly one file, in order, and the newest survive.
      const kept = files.flatMap(numbers);
      expect(kept).toEqual([...kept].sort((a, b) => a - b));
      expect(new Set(kept).size).toBe(kept.length);
      expect(kept.at(-1)).toBe(40);
      const tail = readLogTail(file, { limit: numbers(file).length + 3 }).map((line) => line.msg);
      expect(tail.at(-1)).toBe("line 40");
      expect(tail).toHaveLength(numbers(file).length + 3);
    },
  );

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

describe.skipIf(tinyDiskUnavailable !== undefined)(
  `on a real full disk${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ""}`,
  () => {
    test(
      "a line the file refuses still reaches the console; no log call throws; the file says how many it " + "missed",
      async () => {
        await using disk = tinyDisk(1);
        const file = join(disk.path, "logs", "edgetrain.log");
        let printed = "";
        const sink = new LogSink({
          level: "info",
          file,
          console: { write: (text) => void (printed += text), isTTY: false, color: false },
        });
        try {
          const logger = sink.logger();
          logger.info("before");
          disk.fill();
          for (let i = 0; i < 200; i++) logger.info(`while full ${i}`, { padding: "x".repeat(100) });
          expect(printed).toContain("while full 199");
          disk.free();
          logger.info("after");
        } finally {
          sink.close();
        }
        // At most the line the disk filled up in is cut short; every other line is whole.
        const text = readFileSync(file, "utf8").trim().split("\n");
        const lines = text.flatMap((line) => {
          try {
            return [JSON.parse(line) as { msg: string }];
          } catch {
            return [];
          }
        });
        expect(text.length - lines.length).toBeLessThanOrEqual(1);
        expect(lines[0]!.msg).toBe("before");
        const missing = lines.find((line) => line.msg.includes("log line(s) are missing here"));
        expect(missing?.msg).toMatch(/^\d+ log line/);
        expect(missing?.msg.replace(/^\d+ /, "")).toBe(
          "log line(s) are missing here: the file could not be written (ENOSPC: no space left on device, write)",
        );
        expect(lines.at(-1)!.msg).toBe("after");
      },
    );
  },
);
