import { afterEach, expect, test } from "bun:test";
import { createApp } from "../../runtime/api/app.ts";
import type { DaemonView } from "../../runtime/api/daemon-view.ts";

const warn = console.warn;
afterEach(() => void (console.warn = warn));

/** Only what the app's request rules ask of the daemon; /openapi reaches nothing else. */
const view = {
  requestSeen() {},
  exposed: () => false,
  allowedHosts: () => [],
  token: () => "unused-token-0123456789",
  maxBodyBytes: () => 1024 * 1024,
} as unknown as DaemonView;

test("GET /openapi describes the routes without a warning on stderr", async () => {
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  const response = await createApp(view).handle(new Request("http://127.0.0.1/openapi"));
  expect(response.status).toBe(200);
  const spec = (await response.json()) as { paths: Record<string, unknown> };
  expect(Object.keys(spec.paths)).toContain("/v1/predict/{name}");
  expect(warnings).toEqual([]);
});
