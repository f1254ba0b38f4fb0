/**
 * `stepline start` at its default time scale (×60), as a user runs it: it says which waits are shortened, prints
 * the run's wall-clock duration and its gate's deadline as the real time of day the shortened wait ends.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stepline } from '../support/cli';
import { demoPipeline, passingSeed } from '../support/pipeline-fixture';

/** A duration as the CLI prints it (`0.4s`, `4m07s`, `1h02m`), in ms. */
function parseDuration(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)?$/.exec(text);
  if (!match) throw new Error(`not a printed duration: ${text}`);
  const [, h = '0', m = '0', s = '0'] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/** A local time of day (today, or tomorrow if that is past `after`) or a local date and time, as an instant. */
function parseInstant(text: string, after: number): number {
  const [date, time] = text.includes(' ') ? text.split(' ') : [undefined, text];
  const [hours, minutes, seconds] = time!.split(':').map(Number);
  const day = date ? new Date(`${date}T00:00:00`) : new Date(after);
  const at = new Date(day.getFullYear(), day.getMonth(), day.getDate(), hours, minutes, seconds).getTime();
  return !date && at < after - 86_400_000 / 2 ? at + 86_400_000 : at;
}

describe('stepline start at ×60', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-cli-time-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("prints wall-clock durations plainly, the shortened waits with both lengths, and the gate's real deadline", async () => {
    const seed = join(dir, 'seed');
    await mkdir(seed);
    for (const [name, content] of Object.entries(passingSeed)) await writeFile(join(seed, name), content);
    const approval = {
      approvers: [{ id: 'bob', name: 'Bob', emails: ['bob@example.com'] }],
      classes: { normal: { approvals: 1 }, high: { approvals: 1 } },
      expiresAfterHours: 72,
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify({ pipelines: [{ ...demoPipeline(seed), approval }] }));

    const t0 = Date.now();
    const result = await stepline(['start', '--config', join(dir, 'config.json'), '--state-dir', join(dir, 'state')]);
    const t1 = Date.now();

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'time scale ×60: waits are shorter (5m bake at ×60 = 5s, 1m alarm period at ×60 = 1s, 72h gate expiry at ×60 = 1h12m); run times and timestamps are real',
    );
    const took = /run demo-\S+ SUCCEEDED in (\S+)\n/.exec(result.stdout)?.[1];
    expect(took).toBeDefined();
    expect(parseDuration(took!)).toBeLessThanOrEqual(t1 - t0);
    const by = /release gate: .* by (.+) \(72h at ×60\)\n/.exec(result.stdout)?.[1];
    expect(by).toBeDefined();
    // 72 minutes after the gate opened, at whole seconds.
    const deadline = parseInstant(by!, t0);
    expect(deadline).toBeGreaterThanOrEqual(t0 + 72 * 60_000 - 1000);
    expect(deadline).toBeLessThanOrEqual(t1 + 72 * 60_000);
  });
});
