const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Hour of the week, 0 = Sunday 00:00–01:00, in a time zone (IANA name; default the machine's). */
export function hourOfWeek(at: number, timeZone?: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "numeric",
    hourCycle: "h23",
  }).formatToParts(new Date(at));
  const day = WEEKDAYS.indexOf(parts.find((p) => p.type === "weekday")!.value);
  const hour = Number(parts.find((p) => p.type === "hour")!.value);
  return day * 24 + hour;
}

export function describeHour(hour: number): string {
  const normal = ((hour % 168) + 168) % 168;
  return `${WEEKDAYS[Math.floor(normal / 24)]} ${String(normal % 24).padStart(2, "0")}:00`;
}

export const WEEK_HOURS = 168;
