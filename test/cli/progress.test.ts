/** What the CLI prints about time: wall-clock durations plainly, shortened waits with both lengths, real deadlines. */
import { formatDuration, formatInstant, formatLength, gateDeadline, scaledWait } from '../../cli/progress';
import { TimeScale } from '../../local/time-scale';

describe('printing time', () => {
  it('prints wall-clock durations in seconds, minutes and hours, never a 60th second', () => {
    expect(formatDuration(228)).toBe('0.2s');
    expect(formatDuration(59_949)).toBe('59.9s');
    expect(formatDuration(119_600)).toBe('2m00s');
    expect(formatDuration(247_000)).toBe('4m07s');
    expect(formatDuration(3_725_000)).toBe('1h02m');
    expect(formatDuration(undefined)).toBe('');
  });

  it('prints lengths as a policy states them', () => {
    expect(formatLength(72 * 3_600_000)).toBe('72h');
    expect(formatLength(90 * 60_000)).toBe('1h30m');
    expect(formatLength(300_000)).toBe('5m');
    expect(formatLength(5_000)).toBe('5s');
    expect(formatLength(500)).toBe('0.5s');
    expect(formatLength(83.33)).toBe('0.083s');
  });

  it('says what a scaled wait is and how long it takes here', () => {
    expect(scaledWait('bake', 300_000, new TimeScale(60))).toBe('5m bake at ×60 = 5s');
    expect(scaledWait('gate expiry', 72 * 3_600_000, new TimeScale(60))).toBe('72h gate expiry at ×60 = 1h12m');
    expect(scaledWait('bake', 300_000, TimeScale.REAL)).toBe('5m bake');
  });

  it("prints a gate's deadline as the local time it falls at, with the policy's length it was shortened from", () => {
    const today = new Date(2026, 11, 3, 10, 40, 10);
    const gate = { openedAt: today.toISOString(), deadline: new Date(2026, 11, 3, 11, 52, 10).toISOString() };
    expect(gateDeadline(gate, new TimeScale(60), today)).toBe('11:52:10 (72h at ×60)');
    const unscaled = { openedAt: today.toISOString(), deadline: new Date(2026, 11, 6, 10, 40, 10).toISOString() };
    expect(gateDeadline(unscaled, TimeScale.REAL, today)).toBe('2026-12-06 10:40:10');
    expect(formatInstant(new Date(2026, 0, 2, 3, 4, 5), today)).toBe('2026-01-02 03:04:05');
  });
});
