import { expect, test } from "bun:test";
import { join } from "node:path";
import { createApp } from "../../runtime/api/app.ts";
import { repoRoot } from "../helpers.ts";
import { fakeDaemon, request } from "./fake-daemon.ts";

const docs = () => Bun.file(join(repoRoot, "docs/api.md")).text();

test("docs/api.md names every route of the OpenAPI document", async () => {
  const spec = (await (await createApp(fakeDaemon().view).handle(request("GET", "/openapi"))).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const text = await docs();
  const routes = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `\`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ":$1")}`),
  );
  expect(routes.length).toBeGreaterThanOrEqual(15);
  expect(routes.filter((route) => !text.includes(route))).toEqual([]);
});

test("docs/api.md names every event of the contract", async () => {
  const contract = await Bun.file(join(repoRoot, "runtime/api/contract.ts")).text();
  const payloads = contract.slice(
    contract.indexOf("export type EventPayloads"),
    contract.indexOf("export type EventType"),
  );
  const events = [...payloads.matchAll(/^\s+"?([a-z_.]+)"?: /gm)].map((match) => match[1]!);
  expect(events.length).toBeGreaterThanOrEqual(40);
  const text = await docs();
  expect(events.filter((event) => !text.includes(`\`${event}\``))).toEqual([]);
});
