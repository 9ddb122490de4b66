import { describe, expect, test } from "bun:test";
import { Disposals } from "../../runtime/services/disposals.ts";

describe("disposals", () => {
  test("dispose in reverse order of start, each once; a failure is logged and the rest still run", async () => {
    const warnings: string[] = [];
    const done: string[] = [];
    const stack = new Disposals({ warn: (message) => void warnings.push(message) });
    stack.add("first", () => done.push("first"));
    stack.add("broken", () => {
      throw new Error("no");
    });
    stack.add("slow", async () => {
      await Bun.sleep(520);
      done.push("slow");
    });
    await stack.dispose();
    expect(done).toEqual(["slow", "first"]);
    expect(warnings[0]).toMatch(/^stopping slow took \d+ ms$/);
    expect(warnings[1]).toBe("could not stop broken cleanly");
    await stack.dispose();
    expect(done).toEqual(["slow", "first"]);
  });
});
