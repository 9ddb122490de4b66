import { expect, test } from "bun:test";
import { stateOf } from "../../tui/device-state.ts";

test("a device's state, as edgetrain fleet and the TUI's Fleet screen both word it", () => {
  const states = [
    { registered: true, online: true },
    { registered: true, online: false },
    { registered: false, online: true },
    { registered: false, online: false },
  ].map(stateOf);
  expect(states).toEqual(["online", "offline", "unregistered", "unregistered"]);
});
