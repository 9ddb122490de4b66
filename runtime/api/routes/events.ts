import { Elysia } from "elysia";
import * as v from "valibot";
import { EdgetrainError } from "../../errors.ts";
import type { NumberedEvent, ReplayGap } from "../../events/event-journal.ts";
import type { EventPayloads } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";

const HEARTBEAT_MS = 5000;
/** How long a dropped client waits before it reconnects (the SSE `retry:` field). */
const RETRY_MS = 2000;

/** `data:` of a `reset`: the client asked for events this daemon run no longer holds, or never had. */
function resetOf(gap: ReplayGap): EventPayloads["reset"] {
  const message =
    gap.reason === "too_old"
      ? `the events after id ${gap.requested} are no longer held (oldest ${gap.oldest ?? "none"}, api.event_buffer)`
      : `id ${gap.requested} is not of this daemon run (newest ${gap.newest}): the daemon restarted`;
  return { ...gap, message };
}

/** A Last-Event-ID (header, or `last_event_id` for EventSource polyfills that cannot set headers). */
function lastEventId(header: string | null, query: string | undefined): number | undefined {
  const text = (header ?? query)?.trim();
  if (text === undefined || text === "") return undefined;
  if (!/^\d{1,16}$/.test(text)) {
    const message = `Last-Event-ID ${JSON.stringify(text.slice(0, 40))} is not an event id of /v1/events`;
    throw new EdgetrainError("bad_input", message, {
      hint: "send back the id: of the last event received, or leave it out",
    });
  }
  return Number(text);
}

/**
 * `GET /v1/events`: the daemon's bus as server-sent events (readings, run progress, conflicts,
 * activations). `?types=run.,model.` keeps only events whose type starts with one of the prefixes.
 * Ids increase through the daemon run; a client that reconnects with `Last-Event-ID` first gets what
 * it missed, or a `reset` when that is no longer held. `admitted` is the token rule, asked again before each
 * event and heartbeat: a stream opened with a token that a reload replaced ends instead of going on.
 */
export const eventRoutes = (view: DaemonView, admitted: (request: Request) => boolean) =>
  new Elysia({ name: "routes/events", tags: ["events"] }).get(
    "/v1/events",
    ({ query, request }) => {
      // Elysia hands `a,b` over as an array already; a single value stays a string.
      const prefixes = [query.types ?? []]
        .flat()
        .flatMap((types) => types.split(","))
        .map((type) => type.trim())
        .filter(Boolean);
      const wanted = (type: string) => !prefixes.length || prefixes.some((prefix) => type.startsWith(prefix));
      const resumeFrom = lastEventId(request.headers.get("last-event-id"), query.last_event_id);
      const encoder = new TextEncoder();
      let stop = () => {};
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          const send = (text: string) => {
            try {
              controller.enqueue(encoder.encode(text));
            } catch {
              stop();
            }
          };
          const at = (ms: number) => new Date(ms).toISOString();
          const end = () => {
            stop();
            try {
              controller.close();
            } catch {
              // Already closed by the client.
            }
          };
          /** Ends a stream whose token is no longer the daemon's; the client's reconnection then gets 401. */
          const stillAdmitted = () => {
            if (admitted(request)) return true;
            send(": the API token changed; reconnect with the new one\n\n");
            end();
            return false;
          };
          const sendEvent = (event: NumberedEvent) => {
            if (!stillAdmitted() || !wanted(event.type)) return;
            const data = JSON.stringify({ ...event.data, at: at(event.at) });
            send(`id: ${event.id}\nevent: ${event.type}\ndata: ${data}\n\n`);
          };
          send(`retry: ${RETRY_MS}\n: connected\n\n`);
          const { replay, stop: unfollow } = view.follow(resumeFrom, sendEvent);
          // A client that sees the questions can answer them: a headless daemon asks while one follows.
          const leave = wanted("conflict.asked") ? view.attend() : () => {};
          if ("gap" in replay) {
            // Carries the newest id: a client that reconnects after it resumes from here, not from the gap.
            const data = { ...resetOf(replay.gap), at: at(Date.now()) };
            send(`id: ${replay.gap.newest}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`);
          } else for (const event of replay.events) sendEvent(event);
          // A comment now and then keeps proxies and idle timeouts from closing a quiet stream.
          const heartbeat = setInterval(() => stillAdmitted() && send(": keep-alive\n\n"), HEARTBEAT_MS);
          stop = () => {
            clearInterval(heartbeat);
            unfollow();
            leave();
          };
          request.signal.addEventListener("abort", end);
        },
        cancel: () => stop(),
      });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          connection: "keep-alive",
        },
      });
    },
    {
      query: v.object({
        types: v.optional(
          v.union([
            v.pipe(v.string(), v.maxLength(500)),
            v.pipe(v.array(v.pipe(v.string(), v.maxLength(100))), v.maxLength(20)),
          ]),
        ),
        last_event_id: v.optional(v.pipe(v.string(), v.maxLength(40))),
      }),
      detail: operation(
        "Follow the daemon's events",
        {
          media: "text/event-stream",
          description:
            "Server-sent events: `id:` increasing through the daemon run, `event:` the type (run.progress, " +
            "model.activated, …), `data:` its JSON with `at`. `Last-Event-ID` (or `?last_event_id=`) replays " +
            "what was missed, or sends `reset` when it is no longer held. See docs/api.md.",
        },
        {
          access: "token_unless_loopback",
          errors: { 400: "A types filter too long, or a Last-Event-ID that is not an id." },
        },
      ),
    },
  );
