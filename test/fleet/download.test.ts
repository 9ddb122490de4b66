import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EdgetrainError } from "../../runtime/errors.ts";
import { downloadModel } from "../../runtime/fleet/agent/download.ts";
import { tempDir } from "../helpers.ts";
import { fileServer } from "./hub-double.ts";

const bytes = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 251);
const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
/** Short waits so that the backoff shows in milliseconds; the daemon's defaults are 5 s doubling to 5 min. */
const fast = { firstDelayMs: 20, maxDelayMs: 80 };

function request(file: string, url: string, extra: Partial<Parameters<typeof downloadModel>[0]> = {}) {
  return { url, file, size: bytes.length, sha256, signal: new AbortController().signal, ...fast, ...extra };
}

describe("model download: retries", () => {
  test("503 answers and a hub away for a while are tried again, resuming where the transfer stopped", async () => {
    await using dir = tempDir();
    const file = join(dir.path, "m.onnx");
    const files = fileServer({ "/m.onnx": bytes }, { cutAfter: 20_000 });
    const delays: number[] = [];
    try {
      // The first transfer breaks off after 20 000 bytes, then the server is gone until it comes back.
      const download = downloadModel(
        request(file, files.url("/m.onnx"), {
          onRetry: (_error, delayMs) => {
            delays.push(delayMs);
            if (delays.length === 1) files.stop();
            if (delays.length === 4) files.start();
          },
        }),
      );
      expect(await download).toEqual({ resumedFrom: 0 });
      expect(readFileSync(file)).toEqual(Buffer.from(bytes));
      expect(files.requests.map((r) => r.range)).toEqual([null, "bytes=20000-"]);
      // Reset after the bytes of the first transfer, then doubled up to the longest wait.
      expect(delays).toEqual([20, 20, 40, 80]);
    } finally {
      files.stop();
    }

    const busy = fileServer({ "/m.onnx": bytes }, { unavailable: 3 });
    try {
      await downloadModel(request(join(dir.path, "busy.onnx"), busy.url("/m.onnx")));
      expect(busy.requests.length).toBe(4);
    } finally {
      busy.stop();
    }
  });

  test("a hub that sends nothing is given up after the stall time and tried again", async () => {
    await using dir = tempDir();
    let calls = 0;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch() {
        calls++;
        if (calls === 1) await Bun.sleep(2000);
        return new Response(bytes);
      },
    });
    const errors: string[] = [];
    try {
      await downloadModel(
        request(join(dir.path, "m.onnx"), `http://127.0.0.1:${server.port}/m.onnx`, {
          stallMs: 1000,
          onRetry: (error) => errors.push(String(error)),
        }),
      );
      expect(errors).toEqual([expect.stringContaining("stalled")]);
    } finally {
      server.stop(true);
    }
  });

  test("the retries end after the time allowed without progress, leaving the partial file to resume", async () => {
    await using dir = tempDir();
    const file = join(dir.path, "m.onnx");
    writeFileSync(file, bytes.subarray(0, 1000));
    const files = fileServer({ "/m.onnx": bytes });
    files.stop();
    const started = Date.now();
    const error = await downloadModel(request(file, files.url("/m.onnx"), { retryForMs: 300 })).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(EdgetrainError);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(readFileSync(file).length).toBe(1000);
  });

  test("a stop ends the wait between tries at once", async () => {
    await using dir = tempDir();
    const files = fileServer({ "/m.onnx": bytes });
    files.stop();
    const stop = new AbortController();
    const download = downloadModel(
      request(join(dir.path, "m.onnx"), files.url("/m.onnx"), {
        signal: stop.signal,
        firstDelayMs: 60_000,
        onRetry: () => stop.abort(new Error("edgetrain is stopping")),
      }),
    );
    const started = Date.now();
    expect(await download.catch((e) => e)).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("a refusal, a wrong hash or a file larger than announced fails at once", async () => {
    await using dir = tempDir();
    const files = fileServer({ "/m.onnx": bytes });
    try {
      const missing = await downloadModel(request(join(dir.path, "a.onnx"), files.url("/gone.onnx"))).catch((e) => e);
      expect(missing).toBeInstanceOf(EdgetrainError);
      expect(missing.message).toContain("404");

      const wrong = join(dir.path, "b.onnx");
      const hash = await downloadModel({ ...request(wrong, files.url("/m.onnx")), sha256: "0".repeat(64) }).catch(
        (e) => e,
      );
      expect(hash).toBeInstanceOf(EdgetrainError);
      expect(hash.message).toContain("sha256");
      expect(existsSync(wrong)).toBe(false);

      const small = await downloadModel({ ...request(join(dir.path, "c.onnx"), files.url("/m.onnx")), size: 10 }).catch(
        (e) => e,
      );
      expect(small).toBeInstanceOf(EdgetrainError);

      // The device's own disk refusing the file: a file stands where its folder should be.
      const blocked = join(dir.path, "not-a-folder");
      writeFileSync(blocked, "");
      const unwritable = await downloadModel(request(join(blocked, "d.onnx"), files.url("/m.onnx"))).catch((e) => e);
      expect(unwritable).toBeInstanceOf(EdgetrainError);
      expect(unwritable.message).toContain("cannot be written here");
      expect(files.requests.length).toBe(4);
    } finally {
      files.stop();
    }
  });
});
