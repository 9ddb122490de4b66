import { describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { createApp } from "../../runtime/api/app.ts";
import { fakeDaemon, request, TOKEN } from "./fake-daemon.ts";

/** POST /v1/models/:name/versions with a file as the body, as `edgetrain models add` sends it to a daemon. */
function upload(query: string, headers: Record<string, string> = {}): Request {
  return request("POST", `/v1/models/net/versions?${query}`, {
    token: true,
    body: "not really onnx, the fake daemon does not look",
    headers: { "content-type": "application/octet-stream", ...headers },
  });
}

describe("POST /v1/models/:name/versions", () => {
  test("comma-separated features and classes reach the import whole, as the query or as headers", async () => {
    const { view, calls } = fakeDaemon();
    const app = createApp(view);
    const query = "file=net.onnx&features=hr,cadence,speed&classes=rest,walk,run&task=classification&activate=true";
    const answer = await app.handle(upload(query));
    expect(answer.status).toBe(201);
    const headers = { "x-edgetrain-features": "a,b", "x-edgetrain-classes": "cat,dog" };
    expect((await app.handle(upload("file=net.onnx", headers))).status).toBe(201);
    const requests = calls.filter(([call]) => call === "importModel").map(([, , request]) => request);
    expect(requests).toMatchObject([
      { file: "net.onnx", features: ["hr", "cadence", "speed"], classes: ["rest", "walk", "run"], activate: true },
      { file: "net.onnx", features: ["a", "b"], classes: ["cat", "dog"], activate: false },
    ]);
  });

  test("a file a converter made carries the converter, the given file's sha256 and what it converted", async () => {
    const { view, calls } = fakeDaemon();
    const app = createApp(view);
    const sha256 = "0123456789abcdef".repeat(4);
    const conversion = encodeURIComponent("RandomForestClassifier of 60 trees, 4 features");
    const query = `file=iris.pkl&converter=scikit-learn&source_sha256=${sha256}&conversion=${conversion}`;
    expect((await app.handle(upload(query))).status).toBe(201);
    const [, , imported] = calls.find(([call]) => call === "importModel")!;
    expect(imported).toMatchObject({
      file: "iris.pkl",
      converted: { converter: "scikit-learn", sha256, description: "RandomForestClassifier of 60 trees, 4 features" },
    });
    const unsure = await app.handle(upload("file=iris.pkl&converter=scikit-learn"));
    expect(unsure.status).toBe(400);
    expect(((await unsure.json()) as { message: string }).message).toContain("send the converted file's source_sha256");
  });

  test("features_from, a file on the device, is taken only from a client on the device itself", async () => {
    const { view, calls } = fakeDaemon();
    const app = createApp(view).listen({ hostname: "0.0.0.0", port: 0 });
    try {
      const send = (host: string) =>
        fetch(`http://${host}:${app.server!.port}/v1/models/net/versions?features_from=/etc/passwd`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/octet-stream", host: "127.0.0.1" },
          body: "not really onnx",
        });
      expect((await send("127.0.0.1")).status).toBe(201);
      // The CLI reaches a daemon bound to one of the machine's own addresses from that address.
      const own = Object.values(networkInterfaces())
        .flat()
        .find((address) => address?.family === "IPv4" && !address.internal)?.address;
      if (own) expect((await send(own)).status).toBe(201);
      expect(calls.filter(([call]) => call === "importModel")).toHaveLength(own ? 2 : 1);
    } finally {
      await app.stop(true);
    }
    // A peer that is not this machine (here: none known, through app.handle) is refused.
    const refused = await createApp(fakeDaemon().view).handle(upload("features_from=/etc/passwd"));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toContain(
      "only a client on the device itself may send it, not an unknown peer",
    );
  });

  test("a header is checked as the query is: refused where the query would be, nothing stored", async () => {
    const { view, calls } = fakeDaemon();
    const app = createApp(view);
    const cases: Array<[string, Record<string, string>, string]> = [
      ["activate=yes", {}, "query.activate: true or false"],
      ["", { "x-edgetrain-activate": "yes" }, 'header x-edgetrain-activate: true or false, not "yes"'],
      ["", { "x-edgetrain-task": "rank" }, 'header x-edgetrain-task: classification or regression, not "rank"'],
      ["", { "x-edgetrain-source-sha256": "abc" }, 'header x-edgetrain-source-sha256: a sha256 in hex, not "abc"'],
    ];
    for (const [query, headers, said] of cases) {
      const answer = await app.handle(upload(query, headers));
      const body = (await answer.json()) as { code: string; message: string };
      expect([answer.status, body.code, body.message]).toEqual([400, "bad_request", expect.stringContaining(said)]);
    }
    expect(calls).toEqual([]);
    // The forms the query takes are taken as headers too.
    expect((await app.handle(upload("", { "x-edgetrain-activate": "1" }))).status).toBe(201);
    expect(calls.map(([, , request]) => (request as { activate: boolean }).activate)).toEqual([true]);
  });
});
