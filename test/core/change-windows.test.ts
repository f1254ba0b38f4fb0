import {
  datedFreezeSchema,
  freezeAt,
  freezeSchema,
  inTimeRange,
  localTime,
  timeOfDaySchema,
  timeRangeSchema,
  timeZoneSchema,
  weeklyFreezeSchema,
  type Freeze,
  type FreezeInForce,
} from '../../core/approval/change-windows';

const BERLIN = 'Europe/Berlin';

/** A freeze as the gate reads it: its name and the end as a UTC ISO string. */
function inForce(result: FreezeInForce | undefined): { name: string; until: string | undefined } | undefined {
  return result && { name: result.name, until: result.until?.toISOString() };
}

const weekend: Freeze = freezeSchema.parse({
  name: 'weekend',
  from: { day: 'fri', time: '16:00' },
  to: { day: 'mon', time: '08:00' },
});

describe('localTime', () => {
  it('reads the wall clock of the zone, ignoring seconds', () => {
    expect(localTime(new Date('2026-01-09T15:00:59Z'), BERLIN)).toEqual({
      date: '2026-01-09',
      day: 'fri',
      minutes: 960,
    });
    expect(localTime(new Date('2026-08-14T18:30:00Z'), 'Asia/Kolkata')).toEqual({
      date: '2026-08-15',
      day: 'sat',
      minutes: 0,
    });
  });

  it('reads the repeated autumn hour twice', () => {
    const firstPass = localTime(new Date('2026-10-25T00:30:00Z'), BERLIN);
    const secondPass = localTime(new Date('2026-10-25T01:30:00Z'), BERLIN);

    expect(firstPass).toEqual({ date: '2026-10-25', day: 'sun', minutes: 150 });
    expect(secondPass).toEqual(firstPass);
  });
});

describe('freezeAt: weekly freezes', () => {
  it('starts Friday 16:00 Berlin in winter (UTC+1)', () => {
    const before = freezeAt(new Date('2026-01-09T14:59:59Z'), BERLIN, [weekend]);
    const atStart = freezeAt(new Date('2026-01-09T15:00:30Z'), BERLIN, [weekend]);

    expect(before).toBeUndefined();
    expect(inForce(atStart)).toEqual({ name: 'weekend', until: '2026-01-12T07:00:00.000Z' });
  });

  it('starts Friday 16:00 Berlin in summer (UTC+2)', () => {
    const before = freezeAt(new Date('2026-07-10T13:59:00Z'), BERLIN, [weekend]);
    const atStart = freezeAt(new Date('2026-07-10T14:00:00Z'), BERLIN, [weekend]);

    expect(before).toBeUndefined();
    expect(inForce(atStart)).toEqual({ name: 'weekend', until: '2026-07-13T06:00:00.000Z' });
  });

  it('ends Monday 08:00 Berlin, exclusive', () => {
    const lastMinute = freezeAt(new Date('2026-01-12T06:59:00Z'), BERLIN, [weekend]);
    const end = freezeAt(new Date('2026-01-12T07:00:00Z'), BERLIN, [weekend]);

    expect(inForce(lastMinute)).toEqual({ name: 'weekend', until: '2026-01-12T07:00:00.000Z' });
    expect(end).toBeUndefined();
  });

  it('wraps from Sunday into Monday', () => {
    const night = freezeSchema.parse({
      name: 'sunday night',
      from: { day: 'sun', time: '22:00' },
      to: { day: 'mon', time: '02:00' },
    });

    expect(freezeAt(new Date('2026-01-11T20:59:00Z'), BERLIN, [night])).toBeUndefined();
    expect(inForce(freezeAt(new Date('2026-01-11T22:30:00Z'), BERLIN, [night]))).toEqual({
      name: 'sunday night',
      until: '2026-01-12T01:00:00.000Z',
    });
    expect(inForce(freezeAt(new Date('2026-01-12T00:00:00Z'), BERLIN, [night]))).toEqual({
      name: 'sunday night',
      until: '2026-01-12T01:00:00.000Z',
    });
    expect(freezeAt(new Date('2026-01-12T01:00:00Z'), BERLIN, [night])).toBeUndefined();
  });

  it('holds a freeze of a single minute for that minute', () => {
    const noon = freezeSchema.parse({
      name: 'noon',
      from: { day: 'wed', time: '12:00' },
      to: { day: 'wed', time: '12:01' },
    });

    expect(freezeAt(new Date('2026-01-14T10:59:00Z'), BERLIN, [noon])).toBeUndefined();
    expect(inForce(freezeAt(new Date('2026-01-14T11:00:00Z'), BERLIN, [noon]))).toEqual({
      name: 'noon',
      until: '2026-01-14T11:01:00.000Z',
    });
    expect(freezeAt(new Date('2026-01-14T11:01:00Z'), BERLIN, [noon])).toBeUndefined();
  });

  it('returns undefined when no freeze is in force, or there are none', () => {
    expect(freezeAt(new Date('2026-01-14T11:00:00Z'), BERLIN, [weekend])).toBeUndefined();
    expect(freezeAt(new Date('2026-01-10T11:00:00Z'), BERLIN, [])).toBeUndefined();
  });

  it('leaves until out when freezes cover the whole week', () => {
    const early = freezeSchema.parse({
      name: 'early',
      from: { day: 'mon', time: '00:00' },
      to: { day: 'thu', time: '00:00' },
    });
    const late = freezeSchema.parse({
      name: 'late',
      from: { day: 'thu', time: '00:00' },
      to: { day: 'mon', time: '00:00' },
    });

    expect(freezeAt(new Date('2026-01-14T11:00:00Z'), BERLIN, [early, late])).toEqual({ name: 'early' });
  });
});

describe('freezeAt: across DST switches in Berlin', () => {
  const untilHalfPastTwo = freezeSchema.parse({
    name: 'saturday night',
    from: { day: 'sat', time: '20:00' },
    to: { day: 'sun', time: '02:30' },
  });

  it('ends a freeze at 02:30 on 2026-03-29, which does not exist, at 03:00 CEST (01:00Z)', () => {
    const saturdayEvening = freezeAt(new Date('2026-03-28T21:00:00Z'), BERLIN, [untilHalfPastTwo]);
    const lastMinuteOfWinter = freezeAt(new Date('2026-03-29T00:59:00Z'), BERLIN, [untilHalfPastTwo]);

    expect(inForce(saturdayEvening)).toEqual({ name: 'saturday night', until: '2026-03-29T01:00:00.000Z' });
    expect(inForce(lastMinuteOfWinter)).toEqual({ name: 'saturday night', until: '2026-03-29T01:00:00.000Z' });
    expect(freezeAt(new Date('2026-03-29T01:00:00Z'), BERLIN, [untilHalfPastTwo])).toBeUndefined();
  });

  it('ends a freeze at 02:30 on 2026-10-25 at its first occurrence, 02:30 CEST (00:30Z)', () => {
    const saturdayEvening = freezeAt(new Date('2026-10-24T20:00:00Z'), BERLIN, [untilHalfPastTwo]);

    expect(inForce(saturdayEvening)).toEqual({ name: 'saturday night', until: '2026-10-25T00:30:00.000Z' });
    expect(freezeAt(new Date('2026-10-25T00:45:00Z'), BERLIN, [untilHalfPastTwo])).toBeUndefined();
  });

  it('holds again while the repeated hour reads frozen times, until 02:30 CET (01:30Z)', () => {
    const secondPass = freezeAt(new Date('2026-10-25T01:10:00Z'), BERLIN, [untilHalfPastTwo]);

    expect(inForce(secondPass)).toEqual({ name: 'saturday night', until: '2026-10-25T01:30:00.000Z' });
  });

  it('ends a weekend that spans a switch at Monday 08:00 of the new offset', () => {
    const intoSummer = freezeAt(new Date('2026-03-27T15:00:00Z'), BERLIN, [weekend]);
    const intoWinter = freezeAt(new Date('2026-10-23T14:00:00Z'), BERLIN, [weekend]);

    expect(inForce(intoSummer)).toEqual({ name: 'weekend', until: '2026-03-30T06:00:00.000Z' });
    expect(inForce(intoWinter)).toEqual({ name: 'weekend', until: '2026-10-26T07:00:00.000Z' });
  });
});

describe('freezeAt: dated freezes', () => {
  it('freezes a whole local day in America/New_York (UTC-4 in July)', () => {
    const independenceDay = freezeSchema.parse({ name: 'independence day', dates: ['2026-07-04'] });

    expect(freezeAt(new Date('2026-07-04T03:59:00Z'), 'America/New_York', [independenceDay])).toBeUndefined();
    expect(inForce(freezeAt(new Date('2026-07-04T04:00:00Z'), 'America/New_York', [independenceDay]))).toEqual({
      name: 'independence day',
      until: '2026-07-05T04:00:00.000Z',
    });
    expect(freezeAt(new Date('2026-07-05T04:00:00Z'), 'America/New_York', [independenceDay])).toBeUndefined();
  });

  it('chains consecutive dates in America/New_York (UTC-5 in December)', () => {
    const holidays = freezeSchema.parse({ name: 'holidays', dates: ['2026-12-25', '2026-12-24'] });

    expect(inForce(freezeAt(new Date('2026-12-24T12:00:00Z'), 'America/New_York', [holidays]))).toEqual({
      name: 'holidays',
      until: '2026-12-26T05:00:00.000Z',
    });
  });

  it('freezes a whole local day in Asia/Kolkata (UTC+05:30)', () => {
    const independenceDay = freezeSchema.parse({ name: 'independence day', dates: ['2026-08-15'] });

    expect(freezeAt(new Date('2026-08-14T18:29:00Z'), 'Asia/Kolkata', [independenceDay])).toBeUndefined();
    expect(inForce(freezeAt(new Date('2026-08-14T18:30:00Z'), 'Asia/Kolkata', [independenceDay]))).toEqual({
      name: 'independence day',
      until: '2026-08-15T18:30:00.000Z',
    });
  });
});

describe('freezeAt: chained freezes', () => {
  it('chains a weekend freeze with a dated Monday to Tuesday 00:00 Berlin', () => {
    const monday = freezeSchema.parse({ name: 'migration day', dates: ['2026-01-12'] });

    const result = freezeAt(new Date('2026-01-09T15:00:00Z'), BERLIN, [weekend, monday]);

    expect(inForce(result)).toEqual({ name: 'weekend', until: '2026-01-12T23:00:00.000Z' });
  });

  it('names the first listed freeze in force', () => {
    const monday = freezeSchema.parse({ name: 'migration day', dates: ['2026-01-12'] });

    const result = freezeAt(new Date('2026-01-12T06:00:00Z'), BERLIN, [monday, weekend]);

    expect(inForce(result)).toEqual({ name: 'migration day', until: '2026-01-12T23:00:00.000Z' });
  });

  it('chains two weeks of dates between two weekends quickly', () => {
    const dates = Array.from({ length: 14 }, (_, i) => new Date(Date.UTC(2026, 11, 21 + i)).toISOString().slice(0, 10));
    const yearEnd = freezeSchema.parse({ name: 'year end', dates });

    const started = performance.now();
    const result = freezeAt(new Date('2026-12-18T15:00:00Z'), BERLIN, [weekend, yearEnd]);
    const elapsed = performance.now() - started;

    // Fri 2026-12-18 16:00 .. Mon 12-21 08:00, then 12-21 .. 2027-01-03, then the weekend to Mon 2027-01-04 08:00 CET.
    expect(inForce(result)).toEqual({ name: 'weekend', until: '2027-01-04T07:00:00.000Z' });
    expect(elapsed).toBeLessThan(50);
  });
});

describe('inTimeRange', () => {
  const night = timeRangeSchema.parse({ from: '22:00', to: '06:00' });

  it('covers every day by default and wraps past midnight, start inclusive, end exclusive', () => {
    expect(night.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
    expect(inTimeRange(new Date('2026-01-09T20:59:00Z'), BERLIN, night)).toBe(false);
    expect(inTimeRange(new Date('2026-01-09T21:00:00Z'), BERLIN, night)).toBe(true);
    expect(inTimeRange(new Date('2026-01-10T04:59:00Z'), BERLIN, night)).toBe(true);
    expect(inTimeRange(new Date('2026-01-10T05:00:00Z'), BERLIN, night)).toBe(false);
  });

  it('counts a wrapping range on the day it starts', () => {
    const fridayNight = timeRangeSchema.parse({ days: ['fri'], from: '22:00', to: '06:00' });

    expect(inTimeRange(new Date('2026-01-10T04:59:00Z'), BERLIN, fridayNight)).toBe(true); // Sat 05:59
    expect(inTimeRange(new Date('2026-01-10T21:00:00Z'), BERLIN, fridayNight)).toBe(false); // Sat 22:00
    expect(inTimeRange(new Date('2026-01-09T02:00:00Z'), BERLIN, fridayNight)).toBe(false); // Fri 03:00
  });

  it('matches a range within a day on the listed days only', () => {
    const officeHours = timeRangeSchema.parse({
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: '09:00',
      to: '17:00',
    });

    expect(inTimeRange(new Date('2026-07-10T07:00:00Z'), BERLIN, officeHours)).toBe(true); // Fri 09:00 CEST
    expect(inTimeRange(new Date('2026-07-10T15:00:00Z'), BERLIN, officeHours)).toBe(false); // Fri 17:00 CEST
    expect(inTimeRange(new Date('2026-07-11T07:00:00Z'), BERLIN, officeHours)).toBe(false); // Sat 09:00 CEST
  });
});

describe('schemas', () => {
  /** The messages of a failed parse. */
  function messagesOf(result: { error?: { issues: readonly { message: string }[] } }): string[] {
    return result.error?.issues.map((issue) => issue.message) ?? [];
  }

  it('accepts IANA time zone names and refuses unknown ones', () => {
    expect(timeZoneSchema.safeParse('Asia/Kolkata').success).toBe(true);
    expect(messagesOf(timeZoneSchema.safeParse('Mars/Base'))).toEqual([
      'must be an IANA time zone name such as Europe/Berlin',
    ]);
    expect(timeZoneSchema.safeParse('+01:00').success).toBe(false);
  });

  it('accepts HH:MM from 00:00 to 24:00 only', () => {
    expect(timeOfDaySchema.safeParse('00:00').success).toBe(true);
    expect(timeOfDaySchema.safeParse('23:59').success).toBe(true);
    expect(timeOfDaySchema.safeParse('24:00').success).toBe(true);
    expect(messagesOf(timeOfDaySchema.safeParse('25:00'))).toEqual(['must be a time of day as HH:MM (24-hour)']);
    expect(timeOfDaySchema.safeParse('24:01').success).toBe(false);
    expect(timeOfDaySchema.safeParse('7:00').success).toBe(false);
  });

  it('refuses dates that do not exist', () => {
    const result = datedFreezeSchema.safeParse({ name: 'leap', dates: ['2026-02-28', '2026-02-30'] });

    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['dates', 1], message: 'must be a real calendar date as YYYY-MM-DD' }),
    ]);
    expect(datedFreezeSchema.safeParse({ name: 'leap', dates: ['2028-02-29'] }).success).toBe(true);
    expect(datedFreezeSchema.safeParse({ name: 'none', dates: [] }).success).toBe(false);
  });

  it('refuses a weekly freeze that ends when it starts, saying why, also through freezeSchema', () => {
    const sameMoment = { name: 'never', from: { day: 'fri', time: '16:00' }, to: { day: 'fri', time: '16:00' } };
    const message =
      'from and to must differ: a weekly freeze from a moment to that same moment is either empty or the whole week';

    expect(messagesOf(weeklyFreezeSchema.safeParse(sameMoment))).toEqual([message]);
    expect(messagesOf(freezeSchema.safeParse(sameMoment))).toEqual([message]);
    expect(
      weeklyFreezeSchema.safeParse({
        name: 'x',
        from: { day: 'sun', time: '24:00' },
        to: { day: 'mon', time: '00:00' },
      }).success,
    ).toBe(false);
  });

  it('refuses unknown keys in freezes', () => {
    expect(freezeSchema.safeParse({ name: 'x', dates: ['2026-01-01'], timeZone: 'UTC' }).success).toBe(false);
  });

  it('refuses an empty time range but takes 00:00 to 24:00 as the whole day', () => {
    expect(messagesOf(timeRangeSchema.safeParse({ from: '08:00', to: '08:00' }))).toEqual([
      'from and to must differ (for the whole day, use 00:00 to 24:00)',
    ]);
    const wholeDay = timeRangeSchema.parse({ from: '00:00', to: '24:00' });
    expect(inTimeRange(new Date('2026-01-10T22:59:00Z'), BERLIN, wholeDay)).toBe(true);
  });
});
