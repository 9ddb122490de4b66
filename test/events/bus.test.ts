import { expect, test } from "bun:test";
import { type BusEvent, EventBus } from "../../runtime/events/bus.ts";

test("the bus hands each event to every listener, typed by its name", () => {
  const bus = new EventBus();
  const seen: BusEvent[] = [];
  bus.subscribe(() => {
    throw new Error("a broken listener");
  });
  const stop = bus.subscribe((event) => seen.push(event));
  bus.emit("model.activated", { model: "m", version: 2, previous: 1 });
  stop();
  bus.emit("model.pruned", { model: "m", version: 1 });
  expect(seen.map(({ type, data }) => ({ type, data }))).toEqual([
    { type: "model.activated", data: { model: "m", version: 2, previous: 1 } },
  ]);
  const [event] = seen;
  // Narrowed by its type: the payload's fields are known.
  if (event?.type === "model.activated") expect(event.data.previous).toBe(1);
});

// Checked by `tsc --noEmit` (npm test runs it): each line must fail to compile, or tsc reports the unused directive.
export function wrongEventsDoNotCompile(bus: EventBus): void {
  // @ts-expect-error: no such event
  bus.emit("model.activatd", { model: "m", version: 2, previous: 1 });
  // @ts-expect-error: a payload that lacks a field
  bus.emit("model.activated", { model: "m", version: 2 });
  // @ts-expect-error: a field of the wrong type
  bus.emit("run.progress", { run: "r", job: "j", done: "5", total: 10 });
  // @ts-expect-error: another event's payload
  bus.emit("governor.paused", { model: "m", version: 1 });
}
