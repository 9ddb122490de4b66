import { describe, expect, test } from "bun:test";
import { createParser } from "eventsource-parser";
import { createApp } from "../../runtime/api/app.ts";
import { startDaemonProcess, tempDir } from "../helpers.ts";
import { fakeDaemon, request } from "./fake-daemon.ts";

interface Message {
  id?: string;
  event?: string;
  data: Record<string, unknown>;
}

/** Reads a `/v1/events` body as the wire has it: each message with its id, and the `retry:` the stream set. */
function sseReader(response: Response) {
  const messages: Message[] = [];
  let retry: number | undefined;
  const parser = createParser({
    onEvent: (message) => messages.push({ id: message.id, event: message.event, data: JSON.parse(message.data) }),
    onRetry: (ms) => (retry = ms),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  return {
    get retry() {
      return retry;
    },
    /** The next `count` messages. */
    async take(count: number): Promise<Message[]> {
      while (messages.length < count) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended after ${messages.length} of ${count} messages`);
        parser.feed(decoder.decode(value, { stream: true }));
      }
      return messages.splice(0, count);
    },
    close: () => reader.cancel(),
  };
}

const progress = (done: number) => ({ run: "r2", job: "activity", done, total: 10 });

describe("/v1/events across reconnects", () => {
  test("ids increase through the daemon run, not per connection, and the stream sets retry:", async () => {
    const { view, emit } = fakeDaemon();
    const app = createApp(view);
    const first = sseReader(await app.handle(request("GET", "/v1/events")));
    emit("run.progress", progress(1));
    emit("run.progress", progress(2));
    const [a, b] = await first.take(2);
    expect(first.retry).toBe(2000);
    await first.close();
    const second = sseReader(await app.handle(request("GET", "/v1/events")));
    emit("run.progress", progress(3));
    const [c] = await second.take(1);
    expect([a!.id, b!.id, c!.id].map(Number)).toEqual([1001, 1002, 1003]);
    expect(c!.data.done).toBe(3);
    await second.close();
  });

  test("Last-Event-ID replays exactly the missed events, then the stream goes on live", async () => {
    const { view, emit } = fakeDaemon();
    const app = createApp(view);
    const first = sseReader(await app.handle(request("GET", "/v1/events?types=run.")));
    emit("run.progress", progress(1));
    const [seen] = await first.take(1);
    await first.close();
    // Missed while away: two progress events, and a reading the filter leaves out.
    emit("run.progress", progress(2));
    emit("governor.reading", { cpuPercent: 1, memoryPercent: 2, totalCpuPercent: 1, ownCpuPercent: 0, load1: 0 });
    emit("run.progress", progress(3));
    for (const resume of [{ headers: { "last-event-id": seen!.id! } }, { query: `&last_event_id=${seen!.id}` }]) {
      const again = sseReader(await app.handle(request("GET", `/v1/events?types=run.${resume.query ?? ""}`, resume)));
      const replayed = await again.take(2);
      expect(replayed.map((m) => [m.id, m.event, m.data.done])).toEqual([
        ["1002", "run.progress", 2],
        ["1004", "run.progress", 3],
      ]);
      emit("run.progress", progress(4));
      const [live] = await again.take(1);
      expect([live!.event, live!.data.done]).toEqual(["run.progress", 4]);
      await again.close();
    }
  });

  test("an id older than the buffer, or of another daemon run, gets a reset carrying the newest id", async () => {
    const { view, emit } = fakeDaemon({}, { eventBuffer: 2 });
    const app = createApp(view);
    for (let done = 1; done <= 5; done++) emit("run.progress", progress(done));
    const old = sseReader(await app.handle(request("GET", "/v1/events", { headers: { "last-event-id": "1001" } })));
    const [reset] = await old.take(1);
    expect(reset).toEqual({
      id: "1005",
      event: "reset",
      data: expect.objectContaining({ reason: "too_old", requested: 1001, oldest: 1004, newest: 1005 }),
    });
    expect(String(reset!.data.message)).toContain("api.event_buffer");
    emit("run.progress", progress(6));
    expect((await old.take(1))[0]!.id).toBe("1006");
    await old.close();

    // The oldest held is still there to replay: nothing is lost, so no reset.
    const held = sseReader(await app.handle(request("GET", "/v1/events", { headers: { "last-event-id": "1004" } })));
    expect((await held.take(2)).map((m) => m.id)).toEqual(["1005", "1006"]);
    await held.close();

    const foreign = request("GET", "/v1/events", { headers: { "last-event-id": "999999" } });
    const future = sseReader(await app.handle(foreign));
    expect((await future.take(1))[0]).toMatchObject({ id: "1006", event: "reset", data: { reason: "unknown_id" } });
    await future.close();

    // Below this run's start (1000 ms): an id of the run before a restart, not one this run let go of.
    const earlier = request("GET", "/v1/events", { headers: { "last-event-id": "999" } });
    const previous = sseReader(await app.handle(earlier));
    const [restarted] = await previous.take(1);
    expect(restarted).toMatchObject({ id: "1006", event: "reset", data: { reason: "unknown_id", requested: 999 } });
    expect(String(restarted!.data.message)).toContain("the daemon restarted");
    await previous.close();
    // The start itself is this run's (the id a reset sends before any event): too old once events were let go.
    const start = sseReader(await app.handle(request("GET", "/v1/events", { headers: { "last-event-id": "1000" } })));
    expect((await start.take(1))[0]).toMatchObject({ event: "reset", data: { reason: "too_old", requested: 1000 } });
    await start.close();
  });

  test("a Last-Event-ID that is not an id is refused with 400", async () => {
    const app = createApp(fakeDaemon().view);
    const answer = await app.handle(request("GET", "/v1/events", { headers: { "last-event-id": "abc" } }));
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ code: "bad_input", message: expect.stringContaining("Last-Event-ID") });
  });
});

describe("CORS for a browser dashboard", () => {
  const DASH = "https://dash.example.com";
  const listing = (origins: string[]) => createApp(fakeDaemon({ corsOrigins: () => origins }).view);
  const preflight = (app: ReturnType<typeof listing>, origin: string, path = "/v1/status") =>
    app.handle(
      request("OPTIONS", path, {
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      }),
    );

  test("a listed origin is allowed on /v1 and /v1/events; a preflight is answered without the token", async () => {
    const app = listing([DASH]);
    const answer = await preflight(app, DASH);
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe(DASH);
    expect(answer.headers.get("access-control-allow-headers")).toContain("last-event-id");
    expect(answer.headers.get("access-control-allow-methods")).toContain("POST");
    const status = await app.handle(request("GET", "/v1/status", { headers: { origin: DASH } }));
    const allowed = (answer: Response) => answer.headers.get("access-control-allow-origin");
    expect([status.status, allowed(status), status.headers.get("vary")]).toEqual([200, DASH, "Origin"]);
    const events = await app.handle(request("GET", "/v1/events", { headers: { origin: DASH } }));
    expect([events.headers.get("content-type"), allowed(events)]).toEqual(["text/event-stream; charset=utf-8", DASH]);
    await events.body!.cancel();
    // The token rule still holds: a mutating route needs it, and its 401 is readable by the page.
    const refused = await app.handle(request("DELETE", "/v1/cache", { headers: { origin: DASH } }));
    expect([refused.status, refused.headers.get("access-control-allow-origin")]).toEqual([401, DASH]);
  });

  test("another origin gets no CORS headers and a refused preflight; none are listed by default", async () => {
    for (const app of [listing([DASH]), listing([])]) {
      const answer = await preflight(app, "https://evil.example");
      expect([answer.status, answer.headers.get("access-control-allow-origin")]).toEqual([403, null]);
      expect(await answer.json()).toMatchObject({ code: "forbidden_origin" });
      const read = await app.handle(request("GET", "/v1/status", { headers: { origin: "https://evil.example" } }));
      expect([read.status, read.headers.get("access-control-allow-origin")]).toEqual([200, null]);
    }
    expect((await preflight(listing([]), DASH)).status).toBe(403);
    // Outside /v1 CORS does not apply: an OPTIONS there is an ordinary request, refused without the token.
    const metrics = await preflight(listing([DASH]), DASH, "/metrics");
    expect([metrics.status, metrics.headers.get("access-control-allow-origin")]).toEqual([401, null]);
    // An OPTIONS that is not a preflight is no way around the token either.
    const bare = await listing([DASH]).handle(request("OPTIONS", "/v1/cache", { headers: { origin: DASH } }));
    expect(bare.status).toBe(401);
  });
});

describe("/v1/events when the token changes", () => {
  test("a stream opened with api.token ends when SIGHUP brings a new token: no event after the change reaches " +
    "it, and the old token cannot reconnect", async () => {
    await using dir = tempDir();
    const first = "first-token-0123456789abcdef";
    const second = "second-token-0123456789abcdef";
    const profile = dir.write("p.yaml", `api:\n  token: ${first}\n`);
    // Bound beyond loopback, so that /v1/events needs the token; the client still comes over loopback.
    const { proc, url } = await startDaemonProcess(dir.path, [
      "--home",
      dir.path,
      "--headless",
      "--host",
      "0.0.0.0",
      "--profile",
      profile,
    ]);
    const events = (token: string) => fetch(`${url}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    try {
      const response = await events(first);
      expect(response.status).toBe(200);
      const received: Array<{ event?: string; data: string }> = [];
      const parser = createParser({ onEvent: (message) => received.push(message), onComment: () => {} });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      const read = async () => {
        const { value, done } = await reader.read();
        if (!done) parser.feed(decoder.decode(value, { stream: true }));
        return done;
      };
      // Events flow with the first token (the governor's readings come every second).
      while (received.length === 0) expect(await read()).toBe(false);

      dir.write("p.yaml", `api:\n  token: ${second}\n`);
      proc.kill("SIGHUP");
      let ended = false;
      const deadline = Date.now() + 20_000;
      while (!ended && Date.now() < deadline) ended = await read();
      expect(ended).toBe(true);
      // "profile reloaded" is logged after the new token is chosen: a stream still open would carry it.
      const reloaded = received.filter((m) => m.event === "log" && m.data.includes('"profile reloaded"'));
      expect(reloaded).toEqual([]);
      expect((await events(first)).status).toBe(401);
      const again = await events(second);
      expect(again.status).toBe(200);
      await again.body!.cancel();
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  }, 60_000);
});
