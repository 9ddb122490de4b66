import { type Treaty, treaty } from "@elysiajs/eden";
import { createParser } from "eventsource-parser";
import type { App, DaemonEvent, ErrorBody } from "../runtime/api/contract.ts";

/**
 * The TUI's only way to the daemon: its HTTP API and its event stream, like curl would use them. The
 * event stream reconnects by itself with backoff; callers see the connection's state, never a stack trace.
 */
export interface Connection {
  url: string;
  token?: string;
  /** Where a restarted daemon's new token is read from (the home's api.token); used when given. */
  readToken?: () => string | undefined;
  /**
   * Where the home's daemon listens now (its daemon.json, a restarted one's included); undefined while none
   * runs there. Given, it replaces `url`: another home's daemon may have taken the port the home's had.
   */
  readUrl?: () => string | undefined;
}

function tokenOf(connection: Connection): string | undefined {
  return connection.readToken?.() ?? connection.token;
}

/** The daemon's address now (a daemon restarted on the home may listen on another port); undefined: none runs. */
export function currentUrl(connection: Connection): string | undefined {
  const url = connection.readUrl ? connection.readUrl() : connection.url;
  return url?.replace(/\/+$/, "");
}

/** Where requests go now, or an error in words when the home has no daemon. */
function requireUrl(connection: Connection): string {
  const url = currentUrl(connection);
  if (url === undefined) throw new ApiError("no daemon runs on the home now", "not_found");
  return url;
}

function authorization(connection: Connection): Record<string, string> {
  const token = tokenOf(connection);
  return token ? { authorization: `Bearer ${token}` } : {};
}

export type LinkState = "connecting" | "live" | "reconnecting";

export type { DaemonEvent };

/** An error answer of the daemon, with its code (`not_found` too when no answer came, as the CLI says it). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: ErrorBody["code"],
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** What Eden gives back for any call: the data, or the error with its status and body. */
interface EdenAnswer {
  data: unknown;
  error: { status: unknown; value: unknown } | null;
  response?: Response;
}

/** The daemon's routes as typed calls (Eden Treaty, typed by the app itself), and the unwrapping of answers. */
export interface DaemonClient {
  api: Treaty.Create<App>;
  /** The data of an answer; an error answer is thrown as an ApiError with the daemon's code and message. */
  answer<R extends EdenAnswer>(pending: Promise<R>): Promise<NonNullable<R["data"]>>;
}

export function daemonClient(connection: Connection): DaemonClient {
  const base = connection.url.replace(/\/+$/, "");
  // Each request goes where the daemon listens now, not where it listened when the TUI started.
  const fetcher = ((input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.startsWith(base)) return fetch(url, init);
    const now = currentUrl(connection);
    // No daemon on the home: a request to where it listened before could reach another home's daemon.
    if (now === undefined) return Promise.reject(new ApiError("no daemon runs on the home now", "not_found"));
    return fetch(now + url.slice(base.length), init);
  }) as typeof fetch;
  const api = treaty<App>(base, {
    fetcher,
    // Times stay the ISO strings the contract says they are; by default Eden turns them into Dates.
    parseDate: false,
    // Read for each request: a restarted daemon has a new token.
    headers: () => authorization(connection),
    onRequest: () => ({ signal: AbortSignal.timeout(5000) }),
  });
  return {
    api,
    async answer(pending) {
      const answer = await pending;
      if (!answer.error) return answer.data as NonNullable<Awaited<typeof pending>["data"]>;
      if (!answer.response) {
        const url = currentUrl(connection);
        const words = url === undefined ? "no daemon runs on the home now" : `the daemon at ${url} does not answer`;
        throw new ApiError(words, "not_found");
      }
      const body = (answer.error.value ?? {}) as Partial<ErrorBody>;
      throw new ApiError(
        body.message ?? `${answer.response.url} answered ${answer.response.status}`,
        body.code ?? "internal",
        body.hint,
      );
    },
  };
}

const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/**
 * Follows `/v1/events`; after a drop it waits (250 ms doubling to 5 s) and subscribes again where the
 * daemon listens then, with the last id it got as Last-Event-ID: the daemon replays what was missed, or
 * says with a `reset` that it cannot (the state is read again on every connect either way).
 */
export class EventFeed {
  private stopped = false;
  private abort?: AbortController;
  private attempt = 0;
  private lastId?: number;

  constructor(
    private readonly connection: Connection,
    private readonly onEvent: (event: DaemonEvent) => void,
    private readonly onState: (state: LinkState) => void,
  ) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.onState(this.attempt === 0 ? "connecting" : "reconnecting");
      try {
        await this.follow();
      } catch {
        // Dropped or refused: try again after the backoff.
      }
      if (this.stopped) return;
      this.onState("reconnecting");
      await Bun.sleep(BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)]!);
    }
  }

  private async follow(): Promise<void> {
    this.abort = new AbortController();
    const resume: Record<string, string> = this.lastId === undefined ? {} : { "last-event-id": String(this.lastId) };
    const response = await fetch(`${requireUrl(this.connection)}/v1/events`, {
      headers: { ...authorization(this.connection), ...resume },
      signal: this.abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
    this.attempt = 0;
    this.onState("live");
    for await (const event of daemonEvents(response.body)) {
      if (event.id !== undefined) this.lastId = event.id;
      this.onEvent(event);
    }
  }
}

/** The daemon's server-sent events from a `/v1/events` body, parsed by eventsource-parser; ends with the body. */
export async function* daemonEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<DaemonEvent> {
  const parsed: DaemonEvent[] = [];
  const parser = createParser({
    onEvent(message) {
      if (!message.event) return;
      try {
        // Trusted as the contract says: the daemon's own events, by type.
        const id = message.id === undefined ? undefined : Number(message.id);
        const data: unknown = JSON.parse(message.data);
        parsed.push({ type: message.event, ...(id === undefined ? {} : { id }), data } as DaemonEvent);
      } catch {
        // One bad event must not end the stream.
      }
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    yield* parsed.splice(0);
  }
}
