import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { createApp } from "../../runtime/api/app.ts";
import { ModelName } from "../../runtime/api/routes/schemas.ts";
import { MODEL_NAME } from "../../runtime/store/model-name.ts";
import { repoRoot } from "../helpers.ts";
import { fakeDaemon, request } from "./fake-daemon.ts";
import {
  type Document,
  operationProblems,
  operations,
  tokenRules,
  undeclaredPathParameters,
  validate,
} from "./openapi-checks.ts";

const warn = console.warn;
afterEach(() => void (console.warn = warn));

async function openapiDocument(): Promise<Document> {
  const response = await createApp(fakeDaemon().view).handle(request("GET", "/openapi"));
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

describe("GET /openapi", () => {
  test("is a valid OpenAPI 3.1 document, made without a warning on stderr", async () => {
    const warnings: string[] = [];
    console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
    const doc = await openapiDocument();
    expect(warnings).toEqual([]);
    expect(doc.openapi).toStartWith("3.1.");
    await validate(doc);
  });

  test("declares every path parameter, which the validator does not check for 3.x documents", async () => {
    expect(undeclaredPathParameters(await openapiDocument())).toEqual([]);
  });

  test(
    "every operation has a tag, a summary, its answer's schema and the error body for any other " + "status",
    async () => {
      const doc = await openapiDocument();
      expect(operationProblems(doc)).toEqual([]);
      expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(15);
    },
  );

  test("documents the bearer scheme, and says of each route what the token rule does", async () => {
    const doc = await openapiDocument();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/health"]!.get!.security).toEqual([]);
    const app = createApp(fakeDaemon().view);
    const send = (method: string, path: string) =>
      app.handle(request(method, path, { body: method === "GET" ? undefined : {} }));
    const { said, done } = await tokenRules(doc, send);
    expect(said).toEqual(done);
  });

  test("offers each JSON body as application/json alone, with its 415; the model import as the file", async () => {
    const bodies = operations(await openapiDocument()).flatMap(({ what, op }) => {
      const body = (op as { requestBody?: { content: object } }).requestBody;
      return body ? [`${what}: ${Object.keys(body.content).join()} ${op.responses?.[415] ? "415" : ""}`.trim()] : [];
    });
    expect(bodies.sort()).toEqual(
      [
        "POST /v1/jobs/{name}/run",
        "POST /v1/runs/{id}/{action}",
        "POST /v1/models/{name}/activate",
        "POST /v1/models/{name}/rollback",
        "POST /v1/predict/{name}",
        "POST /v2/models/{name}/infer",
        "DELETE /v1/cache",
        "POST /v1/cache/warm",
        "POST /v1/conflicts/{id}",
      ]
        .map((what) => `${what}: application/json 415`)
        .concat("POST /v1/models/{name}/versions: application/octet-stream")
        .sort(),
    );
  });

  test("the model name schema, one pattern now, accepts exactly the names the store accepts", () => {
    const alphabet = ["a", "z", "0", "9", ".", "_", "-", "A", "/", " ", "é"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const names = [
      "a",
      "a.b",
      "a..b",
      ".a",
      "a.",
      "a._.b",
      "a".repeat(128),
      "a".repeat(129),
      `${"a".repeat(127)}.`,
      "",
    ];
    for (let i = 0; i < 5000; i++)
      names.push(Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length]).join(""));
    const disagreements = names.filter(
      (name) => v.is(ModelName, name) !== (MODEL_NAME.test(name) && !name.includes("..")),
    );
    expect(disagreements).toEqual([]);
  });

  test("its builder (the JSON Schema converter, Elysia's OpenAPI plugin) is loaded only once it is asked", async () => {
    // A fresh process: this test file's own imports must not count.
    const probe = `
      import "./runtime/daemon.ts";
      import { createApp } from "./runtime/api/app.ts";
      import { fakeDaemon, request } from "./test/api/fake-daemon.ts";
      const builder = /runtime\\/api\\/openapi\\.ts$|@elysiajs\\/openapi|@valibot\\/to-json-schema/;
      const loaded = () => Object.keys(require.cache).filter((path) => builder.test(path)).length;
      const app = createApp(fakeDaemon().view);
      const atStart = loaded();
      const { status } = await app.handle(request("GET", "/openapi"));
      console.log(JSON.stringify({ atStart, asked: loaded(), status }));`;
    const proc = Bun.spawn([process.execPath, "-e", probe], { cwd: repoRoot, stdout: "pipe", stderr: "inherit" });
    const output = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(output)).toEqual({ atStart: 0, asked: 3, status: 200 });
  });
});
