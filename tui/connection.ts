import { treaty, type Treaty } from "@elysiajs/eden";
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
}

function tokenOf(connection: Connection): string | undefined {
  return connection.readToken?.() ?? connection.token;
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
  const api = treaty<App>(connection.url, {
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
      if (!answer.response) throw new ApiError(`the daemon at ${connection.url} does not answer`, "not_found");
      const body = (answer.error.value ?? {}) as Partial<ErrorBody>;
      throw new ApiError(body.message ?? `${answer.response.url} answered ${answer.response.status}`, body.code ?? "internal", body.hint);
    },
  };
}

const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/** Follows `/v1/events`; after a drop it waits (250 ms doubling to 5 s) and subscribes again. */
export class EventFeed {
  private stopped = false;
  private abort?: AbortController;
  private attempt = 0;

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
    const response = await fetch(`${this.connection.url}/v1/events`, {
      headers: authorization(this.connection),
      signal: this.abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`events answered ${response.status}`);
    this.attempt = 0;
    this.onState("live");
    for await (const event of daemonEvents(response.body)) this.onEvent(event);
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
        parsed.push({ type: message.event, ...(id === undefined ? {} : { id }), data: JSON.parse(message.data) } as DaemonEvent);
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
