import SwaggerParser from "@apidevtools/swagger-parser";

/** The checks of an OpenAPI document that the daemon's and the hub's share (openapi.test.ts, hub-openapi.test.ts). */

export interface Operation {
  tags?: string[];
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
export interface Document {
  openapi: string;
  tags: Array<{ name: string }>;
  security: unknown;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

export const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op, what: `${method.toUpperCase()} ${path}` })),
  );

/** Checks the document against the OpenAPI 3.1 schema; throws what is wrong. */
export async function validate(doc: Document): Promise<void> {
  // validate() dereferences in place.
  await SwaggerParser.validate(structuredClone(doc) as never);
}

/** Path parameters an operation does not declare, which the validator does not check for 3.x documents. */
export function undeclaredPathParameters(doc: Document): string[] {
  const missing: string[] = [];
  for (const { path, op, what } of operations(doc)) {
    for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
      const declared = op.parameters?.find((p) => p.name === name && p.in === "path");
      if (!declared?.required) missing.push(`${what}: {${name}}`);
    }
  }
  return missing;
}

/** Operations without a known tag, a summary, their answer's schema or the error body for any other status. */
export function operationProblems(doc: Document): string[] {
  const tags = new Set(doc.tags.map((tag) => tag.name));
  const problems: string[] = [];
  for (const { op, what } of operations(doc)) {
    if (!op.tags?.length || !op.tags.every((tag) => tags.has(tag)))
      problems.push(`${what}: tags ${JSON.stringify(op.tags)}`);
    if (!op.summary) problems.push(`${what}: no summary`);
    const success = Object.entries(op.responses ?? {}).find(([status]) => status.startsWith("2"));
    const media = success?.[1].content ?? {};
    const ref = media["application/json"]?.schema?.$ref;
    const raw = ["text/plain", "text/event-stream", "application/octet-stream"].some((type) => media[type]);
    if (!success || (ref === undefined && !raw)) problems.push(`${what}: no success answer`);
    if (ref && !doc.components.schemas[ref.replace("#/components/schemas/", "")])
      problems.push(`${what}: ${ref} is not a component`);
    const fallback = op.responses?.default?.content?.["application/json"]?.schema?.$ref;
    if (fallback !== "#/components/schemas/ErrorBody") problems.push(`${what}: no error body by default`);
  }
  return problems;
}

/**
 * What the document says of each route's token rule on loopback, and what the app does: `send` makes the
 * request without credentials (path parameters filled with `placeholder`); a 401 means it needs one.
 */
export async function tokenRules(
  doc: Document,
  send: (method: string, path: string) => Promise<Response>,
  placeholder = "x",
) {
  const said: string[] = [];
  const done: string[] = [];
  for (const { path, method, op, what } of operations(doc)) {
    // An empty requirement is the alternative of no token: it must be there exactly where a loopback client
    // needs none.
    const requirements = (op.security ?? (doc.security as Operation["security"]))!;
    const anonymous =
      requirements.some((requirement) => Object.keys(requirement).length === 0) || op.security?.length === 0;
    said.push(`${what}: ${anonymous ? "open on loopback" : "token"}`);
    const response = await send(method.toUpperCase(), path.replace(/\{[^}]+\}/g, placeholder));
    await response.body?.cancel();
    done.push(`${what}: ${response.status === 401 ? "token" : "open on loopback"}`);
  }
  return { said, done };
}
