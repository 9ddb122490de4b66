import { EdgetrainError } from "../errors.ts";
import { patternOf, type Route } from "./request-access.ts";

/** A route of the app's table, with the hooks that say whether it declares a body. */
export interface RouteWithBody extends Route {
  hooks?: { body?: unknown };
}

/**
 * The one media type the routes' parser reads as JSON. Elysia matches it by its exact lower-case name and leaves a
 * body of another type (`+json`, upper case) unread: the route would see none and, say, queue every key.
 */
const JSON_TYPE = "application/json";

/**
 * Which requests must say their body is JSON. A browser page may send a cross-origin `text/plain` POST
 * without a preflight, so a route that read any body as JSON would let every page the user opens ask a
 * loopback daemon for predictions. A route that declares a body schema takes JSON (the model import,
 * which declares none, takes the file as it is), so a new route is covered once it declares its body.
 */
export class JsonBodyRule {
  private readonly routes: Array<{ method: string; pattern: RegExp }>;

  /** `routes`: the app's own route table. */
  constructor(routes: readonly RouteWithBody[]) {
    this.routes = routes
      .filter((route) => route.hooks?.body !== undefined)
      .map((route) => ({ method: route.method, pattern: patternOf(route.path) }));
  }

  /**
   * Refuses `method path` (a normalised path) when its route takes JSON and the request says its body is of another
   * type, or has a body and says nothing; a request without a body and without a type is left alone.
   */
  check(method: string, path: string, headers: Headers): void {
    if (!this.routes.some((route) => route.method === method && route.pattern.test(path))) return;
    const type = headers.get("content-type");
    const hasBody = Number(headers.get("content-length") ?? 0) > 0 || headers.has("transfer-encoding");
    if (type === null ? !hasBody : mediaTypeOf(type) === JSON_TYPE) return;
    const found = type === null ? "a body with no Content-Type" : `Content-Type ${JSON.stringify(type)}`;
    throw new EdgetrainError("unsupported_media_type", `${method} ${path} takes a JSON body, got ${found}`, {
      details: type === null ? {} : { content_type: type },
      hint: `send it with Content-Type: ${JSON_TYPE} (curl: -H 'content-type: ${JSON_TYPE}')`,
    });
  }
}

/** The `type/subtype` of a Content-Type, without its parameters (`; charset=utf-8`). */
function mediaTypeOf(contentType: string): string {
  const end = contentType.indexOf(";");
  return (end === -1 ? contentType : contentType.slice(0, end)).trim();
}
