import { createParser } from "eventsource-parser";

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

export type LinkState = "connecting" | "live" | "reconnecting";

export interface DaemonEvent {
  type: string;
  data: Record<string, unknown>;
}

export class ApiError extends Error {}

export class DaemonApi {
  constructor(private readonly connection: Connection) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>("GET", path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>("POST", path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.connection.url + path, {
        method,
        headers: { ...(tokenOf(this.connection) ? { authorization: `Bearer ${tokenOf(this.connection)}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(5000),
      });
    } catch {
      throw new ApiError(`the daemon at ${this.connection.url} does not answer`);
    }
    const payload = (await response.json().catch(() => ({}))) as T & { message?: string };
    if (!response.ok) throw new ApiError(payload.message ?? `${method} ${path} answered ${response.status}`);
    return payload;
  }
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
      headers: tokenOf(this.connection) ? { authorization: `Bearer ${tokenOf(this.connection)}` } : {},
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
        parsed.push({ type: message.event, data: JSON.parse(message.data) as Record<string, unknown> });
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
