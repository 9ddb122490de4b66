const SHADES = ["·", "░", "▒", "▓", "█"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/**
 * A week as text, one row a day, one cell an hour: quiet ·, ░, ▒, ▓, █ busy; the hours of off-peak
 * windows marked W. `scores`: per hour of the week from Sunday 00:00, each 0…1 (the daemon's
 * `offpeak.hour_scores`). Shared by `edgetrain plan` and the TUI's Jobs screen.
 */
export function weekHeatMap(scores: readonly number[], windowHours: readonly number[]): string[] {
  const windows = new Set(windowHours);
  const lines = [`      ${Array.from({ length: 24 }, (_, h) => (h % 3 === 0 ? String(h).padEnd(3) : "")).join("")}`];
  DAYS.forEach((day, d) => {
    let row = `${day}   `;
    for (let h = 0; h < 24; h++) {
      const hour = d * 24 + h;
      const score = Math.max(0, Math.min(1, scores[hour] ?? 0));
      row += windows.has(hour) ? "W" : SHADES[Math.min(SHADES.length - 1, Math.floor(score * SHADES.length))];
    }
    lines.push(row);
  });
  return lines;
}
