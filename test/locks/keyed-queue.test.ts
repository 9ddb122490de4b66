import { describe, expect, test } from "bun:test";
import { KeyedQueue } from "../../runtime/locks/keyed-queue.ts";

describe("keyed queue", () => {
  test("work on one key runs one at a time, in order, past failures; other keys do not wait", async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const step =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`${name} start`);
        await Bun.sleep(ms);
        log.push(`${name} end`);
        if (fail) throw new Error(`${name} failed`);
        return name;
      };
    const a1 = queue.run("a", step("a1", 30, true));
    const a2 = queue.run("a", step("a2", 5));
    const b1 = queue.run("b", step("b1", 5));
    await expect(a1).rejects.toThrow("a1 failed");
    expect(await a2).toBe("a2");
    expect(await b1).toBe("b1");
    expect(log.indexOf("a2 start")).toBeGreaterThan(log.indexOf("a1 end"));
    expect(log.indexOf("b1 end")).toBeLessThan(log.indexOf("a1 end"));
  });
});
