/**
 * Change windows of an approval gate: freezes, during which the release gate holds a change back, and
 * daily time ranges that risk rules look at. Every time here is a wall-clock time in a named IANA time
 * zone, so a "Friday 16:00" freeze starts at 16:00 local time in winter and in summer alike.
 *
 * Internally, local time is a number line: minutes since 1970-01-01 00:00 of the local wall clock
 * (a "local minute"). Freezes are intervals on that line; only the step from a local minute back to a
 * real instant needs the time zone's offsets, which Intl provides.
 */
import * as z from 'zod';

/** The days of the week, Monday first, as configuration names them. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** A day of the week as configuration names it. */
export type Weekday = (typeof WEEKDAYS)[number];

const MS_PER_MINUTE = 60_000;
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
/** 1970-01-01, day 0 of the local-minute line, was a Thursday. */
const WEEKDAY_OF_DAY_ZERO = WEEKDAYS.indexOf('thu');
/** How far freezeAt looks for the end of a freeze: a freeze that lasts longer is effectively permanent. */
const SEARCH_HORIZON_MINUTES = 400 * MINUTES_PER_DAY;
/**
 * Offset changes are looked for in steps this long, then pinned down by bisection. A zone never changes
 * its offset twice within a day, so no change is stepped over.
 */
const OFFSET_SCAN_STEP_MINUTES = MINUTES_PER_DAY;

// ---------------------------------------------------------------------------------------------------
// Reading the wall clock

/** Formatters are costly to build and freezeAt reads the clock dozens of times: keep one per zone. */
const wallClocks = new Map<string, Intl.DateTimeFormat>();
/** Zone names are matched case-insensitively by Intl, so the cache is bounded rather than trusted. */
const MAX_CACHED_WALL_CLOCKS = 64;

function wallClock(timeZone: string): Intl.DateTimeFormat {
  const cached = wallClocks.get(timeZone);
  if (cached) return cached;
  const formatter = new Intl.DateTimeFormat('en-US', {
    timeZone,
    // h23, not hour12: false, which some ICU versions render midnight with as "24".
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  if (wallClocks.size >= MAX_CACHED_WALL_CLOCKS) wallClocks.clear();
  wallClocks.set(timeZone, formatter);
  return formatter;
}

/** Days since 1970-01-01 of a calendar date (setUTCFullYear, unlike Date.UTC, takes years below 100 as written). */
function dayNumberOf(year: number, month: number, day: number): number {
  return new Date(0).setUTCFullYear(year, month - 1, day) / (MINUTES_PER_DAY * MS_PER_MINUTE);
}

/** The local minute the wall clock in `timeZone` reads at a UTC minute (minutes since the epoch). */
function localMinuteAt(utcMinute: number, timeZone: string): number {
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of wallClock(timeZone).formatToParts(utcMinute * MS_PER_MINUTE)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0 } = fields;
  return dayNumberOf(year, month, day) * MINUTES_PER_DAY + hour * 60 + minute;
}

function utcMinuteOf(at: Date): number {
  return Math.floor(at.getTime() / MS_PER_MINUTE);
}

function weekdayIndexOfDay(dayNumber: number): number {
  return positiveModulo(dayNumber + WEEKDAY_OF_DAY_ZERO, WEEKDAYS.length);
}

function positiveModulo(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/** Local wall-clock reading of an instant in a time zone, at minute resolution. */
export interface LocalTime {
  /** The local calendar date, YYYY-MM-DD. */
  readonly date: string;
  readonly day: Weekday;
  /** Minutes since local midnight, 0..1439. */
  readonly minutes: number;
}

/** What the wall clock in `timeZone` reads at `at` (seconds ignored); throws a RangeError for an unknown zone. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const localMinute = localMinuteAt(utcMinuteOf(at), timeZone);
  const dayNumber = Math.floor(localMinute / MINUTES_PER_DAY);
  return {
    date: new Date(dayNumber * MINUTES_PER_DAY * MS_PER_MINUTE).toISOString().slice(0, 10),
    day: WEEKDAYS[weekdayIndexOfDay(dayNumber)],
    minutes: localMinute - dayNumber * MINUTES_PER_DAY,
  };
}

// ---------------------------------------------------------------------------------------------------
// Schemas

function isKnownTimeZone(name: string): boolean {
  // Newer ICU also takes offsets such as "+01:00"; those are not zone names and know no DST.
  if (/^[+-]/.test(name)) return false;
  try {
    wallClock(name);
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name (such as Europe/Berlin) that this runtime's Intl knows. */
export const timeZoneSchema: z.ZodType<string> = z
  .string()
  .refine(isKnownTimeZone, 'must be an IANA time zone name such as Europe/Berlin');

/** A time of day as 'HH:MM' on a 24-hour clock, 00:00..23:59, or 24:00 for the end of the day. */
export const timeOfDaySchema = z
  .string()
  .regex(/^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a time of day as HH:MM (24-hour)');

/** Minutes since midnight of a valid 'HH:MM' (24:00 gives 1440). */
function minutesOfTimeOfDay(timeOfDay: string): number {
  const [hours, minutes] = timeOfDay.split(':').map(Number);
  return hours * 60 + minutes;
}

const weekdaySchema = z.enum(WEEKDAYS);
const freezeNameSchema = z.string().min(1).max(64);
const weeklyMomentSchema = z.strictObject({ day: weekdaySchema, time: timeOfDaySchema });
type WeeklyMoment = z.output<typeof weeklyMomentSchema>;

/** Minutes since Monday 00:00 of a weekly moment; Sunday 24:00 is Monday 00:00 again. */
function weekPositionOf(moment: WeeklyMoment): number {
  return (WEEKDAYS.indexOf(moment.day) * MINUTES_PER_DAY + minutesOfTimeOfDay(moment.time)) % MINUTES_PER_WEEK;
}

/**
 * A freeze that recurs every week, from one local weekday and time to another, e.g. Friday 16:00 to
 * Monday 08:00; it may wrap past Sunday. In force from `from` inclusive to `to` exclusive.
 */
export const weeklyFreezeSchema = z
  .strictObject({ name: freezeNameSchema, from: weeklyMomentSchema, to: weeklyMomentSchema })
  .refine((freeze) => weekPositionOf(freeze.from) !== weekPositionOf(freeze.to), {
    message:
      'from and to must differ: a weekly freeze from a moment to that same moment is either empty or the whole week',
    path: ['to'],
  });

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a real YYYY-MM-DD date, or undefined for anything else (such as 2026-02-30). */
function dayNumberOfDate(date: string): number | undefined {
  const match = CALENDAR_DATE.exec(date);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number);
  const dayNumber = dayNumberOf(year, month, day);
  // Date rolls an impossible day over into the next month: a real date survives the round trip.
  const roundTrip = new Date(dayNumber * MINUTES_PER_DAY * MS_PER_MINUTE);
  return roundTrip.getUTCMonth() + 1 === month && roundTrip.getUTCDate() === day ? dayNumber : undefined;
}

const calendarDateSchema = z
  .string()
  .refine((date) => dayNumberOfDate(date) !== undefined, 'must be a real calendar date as YYYY-MM-DD');

/** A freeze of whole local calendar days, e.g. ['2026-12-24', '2026-12-31'], each from midnight to midnight. */
export const datedFreezeSchema = z.strictObject({
  name: freezeNameSchema,
  dates: z.array(calendarDateSchema).min(1).max(366),
});

/** A change freeze, weekly or dated: while one is in force the release gate holds. */
export const freezeSchema = z.union([weeklyFreezeSchema, datedFreezeSchema]);
/** A change freeze, weekly or dated, as validated by freezeSchema. */
export type Freeze = z.output<typeof freezeSchema>;

/** Whether a daily range from..to covers no minute at all (00:00 to 24:00 is the whole day). */
function isEmptyDailyRange(from: string, to: string): boolean {
  const fromMinutes = minutesOfTimeOfDay(from);
  const toMinutes = minutesOfTimeOfDay(to);
  const sameTimeOfDay = fromMinutes % MINUTES_PER_DAY === toMinutes % MINUTES_PER_DAY;
  return sameTimeOfDay && !(fromMinutes === 0 && toMinutes === MINUTES_PER_DAY);
}

/**
 * A daily local time range on some weekdays (all by default), for risk rules that look at the time of
 * day. from > to wraps past midnight: 22:00 to 06:00 on 'fri' covers Friday 22:00 to Saturday 05:59, so
 * `days` names the day a range starts on.
 */
export const timeRangeSchema = z
  .strictObject({
    days: z
      .array(weekdaySchema)
      .min(1)
      .default(() => [...WEEKDAYS]),
    from: timeOfDaySchema,
    to: timeOfDaySchema,
  })
  .refine((range) => !isEmptyDailyRange(range.from, range.to), {
    message: 'from and to must differ (for the whole day, use 00:00 to 24:00)',
    path: ['to'],
  });
/** A daily local time range on some weekdays, as validated by timeRangeSchema. */
export type TimeRange = z.output<typeof timeRangeSchema>;

// ---------------------------------------------------------------------------------------------------
// Time ranges

/** Whether `at` (seconds ignored) falls in the time range, read on the wall clock of `timeZone`; start inclusive, end exclusive. */
export function inTimeRange(at: Date, timeZone: string, range: TimeRange): boolean {
  const { day, minutes } = localTime(at, timeZone);
  const from = minutesOfTimeOfDay(range.from);
  const to = minutesOfTimeOfDay(range.to);
  const startsOn = (weekday: Weekday) => range.days.includes(weekday);
  if (from < to) return startsOn(day) && from <= minutes && minutes < to;
  // Wraps past midnight: either the evening part of a range starting today, or the morning part of yesterday's.
  const yesterday = WEEKDAYS[positiveModulo(WEEKDAYS.indexOf(day) - 1, WEEKDAYS.length)];
  return (startsOn(day) && minutes >= from) || (startsOn(yesterday) && minutes < to);
}

// ---------------------------------------------------------------------------------------------------
// Freezes

/** A freeze as intervals of local minutes. */
interface FreezeIntervals {
  readonly name: string;
  /** The end of the freeze's interval that contains `localMinute` (exclusive), or undefined when not in force then. */
  endOfIntervalAt(localMinute: number): number | undefined;
}

function weeklyIntervals(freeze: z.output<typeof weeklyFreezeSchema>): FreezeIntervals {
  const start = weekPositionOf(freeze.from);
  const length = positiveModulo(weekPositionOf(freeze.to) - start, MINUTES_PER_WEEK);
  return {
    name: freeze.name,
    endOfIntervalAt(localMinute) {
      const weekPosition = positiveModulo(localMinute + WEEKDAY_OF_DAY_ZERO * MINUTES_PER_DAY, MINUTES_PER_WEEK);
      const sinceStart = positiveModulo(weekPosition - start, MINUTES_PER_WEEK);
      return sinceStart < length ? localMinute - sinceStart + length : undefined;
    },
  };
}

function datedIntervals(freeze: z.output<typeof datedFreezeSchema>): FreezeIntervals {
  const frozenDays = new Set(freeze.dates.map(dayNumberOfDate));
  return {
    name: freeze.name,
    endOfIntervalAt(localMinute) {
      const dayNumber = Math.floor(localMinute / MINUTES_PER_DAY);
      return frozenDays.has(dayNumber) ? (dayNumber + 1) * MINUTES_PER_DAY : undefined;
    },
  };
}

function intervalsOf(freeze: Freeze): FreezeIntervals {
  return 'dates' in freeze ? datedIntervals(freeze) : weeklyIntervals(freeze);
}

/**
 * The first local minute from `localMinute` on that no freeze covers: intervals that touch or overlap
 * chain. Stops once past `horizon`, so freezes that together cover the whole week end.
 */
function endOfFrozenRun(localMinute: number, freezes: readonly FreezeIntervals[], horizon: number): number {
  let end = localMinute;
  while (end <= horizon) {
    const ends = freezes.map((freeze) => freeze.endOfIntervalAt(end)).filter((e) => e !== undefined);
    if (ends.length === 0) return end;
    end = Math.max(...ends);
  }
  return end;
}

/** The first UTC minute in (after, through] at which the zone's offset differs from `offset`, if any. */
function firstOffsetChange(after: number, through: number, offset: number, timeZone: string): number | undefined {
  const offsetAt = (utcMinute: number) => localMinuteAt(utcMinute, timeZone) - utcMinute;
  for (let stepStart = after; stepStart < through; stepStart += OFFSET_SCAN_STEP_MINUTES) {
    const stepEnd = Math.min(stepStart + OFFSET_SCAN_STEP_MINUTES, through);
    if (offsetAt(stepEnd) === offset) continue;
    // Bisect: the offset at `unchanged` is `offset`, at `changed` it is not.
    let unchanged = stepStart;
    let changed = stepEnd;
    while (changed - unchanged > 1) {
      const middle = Math.floor((unchanged + changed) / 2);
      if (offsetAt(middle) === offset) unchanged = middle;
      else changed = middle;
    }
    return changed;
  }
  return undefined;
}

/**
 * The first UTC minute after `after` at which the wall clock reads a local minute outside [low, high),
 * given that it reads one inside at `after`; undefined if none by `horizon`. The clock leaves either by
 * reaching `high` or by a DST change that jumps it out (forward past `high`, or back below `low`).
 */
function firstMinuteOutside(
  after: number,
  low: number,
  high: number,
  timeZone: string,
  horizon: number,
): number | undefined {
  let cursor = after;
  let offset = localMinuteAt(cursor, timeZone) - cursor;
  for (;;) {
    const readsHigh = high - offset; // where the clock reads `high` if the offset holds
    const scanThrough = Math.min(readsHigh, horizon);
    const change = firstOffsetChange(cursor, scanThrough, offset, timeZone);
    if (change === undefined) return readsHigh <= horizon ? readsHigh : undefined;
    const reading = localMinuteAt(change, timeZone);
    if (reading < low || reading >= high) return change;
    // A DST change inside the run (say, spring forward in the middle of a weekend): keep going.
    cursor = change;
    offset = reading - change;
  }
}

/**
 * The first UTC minute after `start` (a frozen minute) at which the wall clock reads a local minute
 * outside every freeze, or undefined if none within the search horizon.
 */
function firstUnfrozenMinute(start: number, timeZone: string, freezes: readonly FreezeIntervals[]): number | undefined {
  const horizon = start + SEARCH_HORIZON_MINUTES;
  let cursor = start;
  for (;;) {
    const reading = localMinuteAt(cursor, timeZone);
    // A day beyond the horizon leaves room for the zone's offset between local and UTC minutes.
    const runEnd = endOfFrozenRun(reading, freezes, reading + SEARCH_HORIZON_MINUTES + MINUTES_PER_DAY);
    if (runEnd === reading) return cursor;
    const next = firstMinuteOutside(cursor, reading, runEnd, timeZone, horizon);
    if (next === undefined) return undefined;
    // Usually unfrozen; after the clock falls back an hour, it may read a frozen minute again.
    cursor = next;
  }
}

/** The freeze in force at an instant, and when the gate may next let a change out. */
export interface FreezeInForce {
  /** The first listed freeze in force. */
  readonly name: string;
  /**
   * The first whole minute after the instant at which the wall clock reads a time that no freeze
   * covers: touching or overlapping freezes chain. Undefined if there is none within 400 days (the
   * freeze is then effectively permanent).
   */
  readonly until?: Date;
}

/**
 * The freeze in force at `at` (seconds ignored) on the wall clock of `timeZone`, and when no freeze at
 * all is in force any more; undefined when none is in force. Freezes cover local times, so when DST
 * skips an hour the end moves to the first local minute that exists, and when DST repeats an hour the
 * freeze ends on the first pass through it (and holds again while the clock reads frozen times twice).
 */
export function freezeAt(at: Date, timeZone: string, freezes: readonly Freeze[]): FreezeInForce | undefined {
  const start = utcMinuteOf(at);
  const reading = localMinuteAt(start, timeZone);
  const intervals = freezes.map(intervalsOf);
  const inForce = intervals.find((freeze) => freeze.endOfIntervalAt(reading) !== undefined);
  if (!inForce) return undefined;
  const until = firstUnfrozenMinute(start, timeZone, intervals);
  return until === undefined ? { name: inForce.name } : { name: inForce.name, until: new Date(until * MS_PER_MINUTE) };
}
