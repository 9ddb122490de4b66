import { describe, expect, test } from "bun:test";
import { createApp } from "../../runtime/api/app.ts";
import { fakeDaemon, request } from "./fake-daemon.ts";

/** Where the 401 answer says a token comes from. */
const TOKEN_SOURCES = "<api.token, or the home's api.token file>";

/** Every route of the app as a request to send: its own table, so a route added later is covered too. */
function everyRoute(app: ReturnType<typeof createApp>): Array<{ method: string; path: string }> {
  return app.routes.map((route) => ({
    method: route.method,
    path: route.path.replace(/:name/g, "activity-player_1").replace(":id", "r2").replace(":action", "pause"),
  }));
}

/** The status of each route for one way of asking, as `METHOD path -> status` lines. */
async function statuses(app: ReturnType<typeof createApp>, token?: string | true): Promise<string[]> {
  const lines: string[] = [];
  for (const { method, path } of everyRoute(app)) {
    const body =
      method === "POST"
        ? path.startsWith("/v1/predict")
          ? { inputs: [[1, 2]] }
          : path.endsWith("activate")
            ? { version: 1 }
            : path.startsWith("/v1/conflicts")
              ? { action: "wait" }
              : undefined
        : undefined;
    const response = await app.handle(request(method, path, { token, body }));
    if (response.status === 401) {
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect(await response.json()).toMatchObject({
        code: "unauthorized",
        message: `${method} ${path} needs the API token: Authorization: Bearer ${TOKEN_SOURCES}`,
      });
    } else await response.body?.cancel();
    lines.push(`${method} ${path} -> ${response.status === 401 ? "401" : "answered"}`);
  }
  return lines;
}

const expected = (open: (method: string, path: string) => boolean, app: ReturnType<typeof createApp>) =>
  everyRoute(app).map(({ method, path }) => `${method} ${path} -> ${open(method, path) ? "answered" : "401"}`);

describe("the token rule, in process (README: Who may ask what)", () => {
  test("on loopback, reads and predictions need no token; every change does, and a wrong token is none", async () => {
    const app = createApp(fakeDaemon().view);
    expect(everyRoute(app).length).toBeGreaterThanOrEqual(20);
    // The Open Inference Protocol's infer is a prediction too.
    const open = (method: string, path: string) =>
      method === "GET" ||
      (method === "POST" && (path.startsWith("/v1/predict/") || /^\/v2\/models\/[^/]+\/infer$/.test(path)));
    expect(await statuses(app)).toEqual(expected(open, app));
    expect(await statuses(app, "wrong-token-0123456789xxxxx")).toEqual(expected(open, app));
    expect(await statuses(app, true)).toEqual(expected(() => true, app));
  });

  test("beyond loopback, every route but /health needs the token", async () => {
    const app = createApp(fakeDaemon({ exposed: () => true }).view);
    const open = (method: string, path: string) => method === "GET" && path === "/health";
    expect(await statuses(app)).toEqual(expected(open, app));
    expect(await statuses(app, true)).toEqual(expected(() => true, app));
  });
});
