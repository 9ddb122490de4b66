import { Elysia } from "elysia";
import * as v from "valibot";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi.ts";

const HEARTBEAT_MS = 5000;

/**
 * `GET /v1/events`: the daemon's bus as server-sent events (readings, run progress, conflicts,
 * activations). `?types=run.,model.` keeps only events whose type starts with one of the prefixes.
 */
export const eventRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/events", tags: ["events"] }).get(
    "/v1/events",
    ({ query, request }) => {
      // Elysia hands `a,b` over as an array already; a single value stays a string.
      const prefixes = [query.types ?? []].flat().flatMap((types) => types.split(",")).map((type) => type.trim()).filter(Boolean);
      const encoder = new TextEncoder();
      let stop = () => {};
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          let id = 0;
          const send = (text: string) => {
            try {
              controller.enqueue(encoder.encode(text));
            } catch {
              stop();
            }
          };
          const unsubscribe = view.subscribe((event) => {
            if (prefixes.length && !prefixes.some((prefix) => event.type.startsWith(prefix))) return;
            send(`id: ${++id}\nevent: ${event.type}\ndata: ${JSON.stringify({ ...event.data, at: new Date(event.at).toISOString() })}\n\n`);
          });
          // A comment now and then keeps proxies and idle timeouts from closing a quiet stream.
          const heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS);
          stop = () => {
            clearInterval(heartbeat);
            unsubscribe();
          };
          request.signal.addEventListener("abort", () => {
            stop();
            try {
              controller.close();
            } catch {
              // Already closed by the client.
            }
          });
          send(": connected\n\n");
        },
        cancel: () => stop(),
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" } });
    },
    {
      query: v.object({ types: v.optional(v.union([v.pipe(v.string(), v.maxLength(500)), v.pipe(v.array(v.pipe(v.string(), v.maxLength(100))), v.maxLength(20))])) }),
      detail: operation(
        "Follow the daemon's events",
        { media: "text/event-stream", description: "Server-sent events: `event:` the type (run.progress, model.activated, …), `data:` its JSON with `at`. See docs/api.md." },
        { access: "token_unless_loopback", errors: { 400: "A types filter too long." } },
      ),
    },
  );
