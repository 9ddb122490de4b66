import { expect, test } from "bun:test";
import { IdleRelease } from "../../runtime/services/idle-release.ts";
import { FakeClock } from "../fake-clock.ts";

function idleRelease() {
  const clock = new FakeClock(Date.UTC(2026, 11, 4));
  let releases = 0;
  const idle = new IdleRelease({ clock, quietMs: 30_000, release: () => releases++ });
  const stop = idle.start();
  return { clock, idle, stop, releases: () => releases };
}

test("freed memory goes back once the daemon has been quiet after activity, and not again until there is more", () => {
  const { clock, idle, releases } = idleRelease();
  clock.advance(300_000);
  expect(releases()).toBe(0);

  idle.activity();
  clock.advance(20_000);
  expect(releases()).toBe(0);
  clock.advance(20_000);
  expect(releases()).toBe(1);
  clock.advance(600_000);
  expect(releases()).toBe(1);

  idle.activity();
  clock.advance(40_000);
  expect(releases()).toBe(2);
});

test("nothing is released while activity goes on, nor once stopped", () => {
  const { clock, idle, stop, releases } = idleRelease();
  for (let second = 0; second < 300; second += 10) {
    idle.activity();
    clock.advance(10_000);
  }
  expect(releases()).toBe(0);
  stop();
  clock.advance(300_000);
  expect(releases()).toBe(0);
});
