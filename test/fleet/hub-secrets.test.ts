import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startEmbeddedBroker } from "../../runtime/fleet/hub/embedded-broker.ts";
import { LogSink } from "../../runtime/log/logger.ts";
import { tempDir } from "../helpers.ts";
import { startHub } from "./hub-fixture.ts";

test("a broker password in --broker reaches neither the log nor hub.json", async () => {
  await using home = tempDir();
  const broker = await startEmbeddedBroker("127.0.0.1", 0);
  const logs = new LogSink({ level: "debug", file: join(home.path, "hub.log") });
  try {
    const url = `mqtt://hub:s3cret-pass@127.0.0.1:${broker.port}`;
    {
      await using hub = await startHub(home.path, { broker: url, logger: logs.logger() });
      expect(hub.brokerUrl).toBe(`mqtt://hub:***@127.0.0.1:${broker.port}`);
      expect(readFileSync(join(home.path, "hub.json"), "utf8")).not.toContain("s3cret");
    }
    const log = readFileSync(join(home.path, "hub.log"), "utf8");
    expect(log).toContain("connected to the broker");
    expect(log).not.toContain("s3cret");
  } finally {
    logs.close();
    await broker.close();
  }
});
