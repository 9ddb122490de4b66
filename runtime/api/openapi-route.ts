import { Elysia } from "elysia";

/**
 * `GET /openapi`: the OpenAPI 3.1 document of the app's routes, built once, when first asked. The module that
 * builds it (the JSON Schema converter, Elysia's OpenAPI plugin, every answer's schema) is loaded only then.
 */
export function apiDocument(version: string, api: "daemon" | "hub" = "daemon") {
  const plugin = new Elysia({ name: "routes/openapi" });
  let document: object | undefined;
  return plugin.get(
    "/openapi",
    async () => {
      if (!document) {
        const { APIS, openapiDocument } = await import("./openapi.ts");
        document = openapiDocument(plugin, version, APIS[api]);
      }
      return document;
    },
    { detail: { hide: true } },
  );
}
