/** Microsoft 365 calendar sync: calendarView delta over a window around now (Graph requires one). */

/** The window of the initial calendarView delta: last 30 days to next 180 days. */
const CALENDAR_PAST_MS = 30 * 24 * 60 * 60 * 1000;
const CALENDAR_FUTURE_MS = 180 * 24 * 60 * 60 * 1000;

export function calendarDeltaStart(nowMs: number): string {
  const start = new Date(nowMs - CALENDAR_PAST_MS).toISOString();
  const end = new Date(nowMs + CALENDAR_FUTURE_MS).toISOString();
  return `/me/calendarView/delta?startDateTime=${start}&endDateTime=${end}`;
}
