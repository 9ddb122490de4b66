import { afterEach, describe, expect, test } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import * as v from "valibot";
import { createApp } from "../../runtime/api/app.ts";
import { ModelName } from "../../runtime/api/routes/schemas.ts";
import { MODEL_NAME } from "../../runtime/store/model-name.ts";
import { fakeDaemon, request } from "./fake-daemon.ts";

const warn = console.warn;
afterEach(() => void (console.warn = warn));

interface Operation {
  tags?: string[];
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface Document {
  openapi: string;
  tags: Array<{ name: string }>;
  security: unknown;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

async function openapiDocument(): Promise<Document> {
  const response = await createApp(fakeDaemon().view).handle(request("GET", "/openapi"));
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

const operations = (doc: Document) => Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op, what: `${method.toUpperCase()} ${path}` })));

describe("GET /openapi", () => {
  test("is a valid OpenAPI 3.1 document, made without a warning on stderr", async () => {
    const warnings: string[] = [];
    console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
    const doc = await openapiDocument();
    expect(warnings).toEqual([]);
    expect(doc.openapi).toStartWith("3.1.");
    // validate() dereferences in place; it checks the document against the OpenAPI 3.1 schema.
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  test("declares every path parameter, which the validator does not check for 3.x documents", async () => {
    const missing: string[] = [];
    for (const { path, op, what } of operations(await openapiDocument())) {
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        const declared = op.parameters?.find((p) => p.name === name && p.in === "path");
        if (!declared?.required) missing.push(`${what}: {${name}}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("every operation has a tag, a summary, its answer's schema and the error body for any other status", async () => {
    const doc = await openapiDocument();
    const tags = new Set(doc.tags.map((tag) => tag.name));
    const problems: string[] = [];
    for (const { op, what } of operations(doc)) {
      if (!op.tags?.length || !op.tags.every((tag) => tags.has(tag))) problems.push(`${what}: tags ${JSON.stringify(op.tags)}`);
      if (!op.summary) problems.push(`${what}: no summary`);
      const success = Object.entries(op.responses ?? {}).find(([status]) => status.startsWith("2"));
      const media = success?.[1].content ?? {};
      const ref = media["application/json"]?.schema?.$ref;
      if (!success || (ref === undefined && !media["text/plain"] && !media["text/event-stream"])) problems.push(`${what}: no success answer`);
      if (ref && !doc.components.schemas[ref.replace("#/components/schemas/", "")]) problems.push(`${what}: ${ref} is not a component`);
      if (op.responses?.default?.content?.["application/json"]?.schema?.$ref !== "#/components/schemas/ErrorBody") problems.push(`${what}: no error body by default`);
    }
    expect(problems).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(15);
  });

  test("documents the bearer scheme, and says of each route what the token rule does", async () => {
    const doc = await openapiDocument();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/health"]!.get!.security).toEqual([]);
    // An empty requirement is the alternative of no token: it must be there exactly where a loopback client needs none.
    const app = createApp(fakeDaemon().view);
    const said: string[] = [];
    const done: string[] = [];
    for (const { path, method, op, what } of operations(doc)) {
      const anonymous = (op.security ?? (doc.security as Operation["security"]))!.some((requirement) => Object.keys(requirement).length === 0) || op.security?.length === 0;
      said.push(`${what}: ${anonymous ? "open on loopback" : "token"}`);
      const response = await app.handle(request(method.toUpperCase(), path.replace(/\{[^}]+\}/g, "x"), { body: method === "get" ? undefined : {} }));
      await response.body?.cancel();
      done.push(`${what}: ${response.status === 401 ? "token" : "open on loopback"}`);
    }
    expect(said).toEqual(done);
  });

  test("the model name schema, one pattern now, accepts exactly the names the store accepts", () => {
    const alphabet = ["a", "z", "0", "9", ".", "_", "-", "A", "/", " ", "é"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const names = ["a", "a.b", "a..b", ".a", "a.", "a._.b", "a".repeat(128), "a".repeat(129), `${"a".repeat(127)}.`, ""];
    for (let i = 0; i < 5000; i++) names.push(Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length]).join(""));
    const disagreements = names.filter((name) => v.is(ModelName, name) !== (MODEL_NAME.test(name) && !name.includes("..")));
    expect(disagreements).toEqual([]);
  });
});
