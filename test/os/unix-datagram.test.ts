import { expect, test } from "bun:test";
import { join } from "node:path";
import { sendUnixDatagram } from "../../runtime/os/unix-datagram.ts";
import { tempDir } from "../helpers.ts";
import { noPython, notifySocket, python } from "../systemd/notify-socket.ts";

test.skipIf(!python)(`a datagram reaches a socket by path and in the abstract namespace${noPython}`, async () => {
  await using dir = tempDir();
  const byPath = join(dir.path, "notify.sock");
  using fileSocket = await notifySocket(byPath);
  expect(sendUnixDatagram(byPath, "READY=1\nSTATUS=by path")).toBe(true);
  expect(await fileSocket.next(() => true)).toBe("READY=1\nSTATUS=by path");
  const abstract = `@edgetrain-test-${process.pid}`;
  using abstractSocket = await notifySocket(abstract);
  expect(sendUnixDatagram(abstract, "WATCHDOG=1")).toBe(true);
  expect(await abstractSocket.next(() => true)).toBe("WATCHDOG=1");
});

test("no socket, or a path too long for sockaddr_un, is a false answer, not an error", async () => {
  await using dir = tempDir();
  expect(sendUnixDatagram(join(dir.path, "nobody.sock"), "READY=1")).toBe(false);
  expect(sendUnixDatagram(`/${"x".repeat(200)}`, "READY=1")).toBe(false);
  expect(sendUnixDatagram("", "READY=1")).toBe(false);
});
