/**
 * A deployment's traffic over time, drawn on the server as SVG: the new version's weight as a step line (each step
 * taken, from `stepsTaken`; back to 0 at a rollback's end), each alarm state seen as a mark on the time axis
 * (`alarmsSeen`), each operator's intervention as a tick. Colours come from console.css by class.
 */
import type { DeploymentRecord } from '../../core/records';
import { html, type Html } from './html';

const WIDTH = 640;
const HEIGHT = 140;
const LEFT = 40;
const RIGHT = 12;
const TOP = 10;
const PLOT = 90;

export function deploymentChart(d: DeploymentRecord): Html {
  const start = Date.parse(d.startedAt);
  const points: { at: number; weight: number }[] = [{ at: start, weight: 0 }];
  for (const step of d.stepsTaken ?? []) points.push({ at: Date.parse(step.at), weight: step.weight });
  if (d.endedAt && d.status === 'ROLLED_BACK') points.push({ at: Date.parse(d.endedAt), weight: 0 });
  const marks = [
    ...d.alarmsSeen.map((a) => Date.parse(a.at)),
    ...d.interventions.map((i) => Date.parse(i.at)),
    ...(d.endedAt ? [Date.parse(d.endedAt)] : []),
  ];
  const end = Math.max(start + 1000, ...points.map((p) => p.at), ...marks);
  const x = (at: number) => LEFT + ((at - start) / (end - start)) * (WIDTH - LEFT - RIGHT);
  const y = (weight: number) => TOP + (1 - weight) * PLOT;
  const line = points
    .map((p, i) => {
      const previous = points[i - 1];
      const stepUp = previous ? `L${x(p.at).toFixed(1)},${y(previous.weight).toFixed(1)} ` : '';
      return `${i === 0 ? 'M' : stepUp + 'L'}${x(p.at).toFixed(1)},${y(p.weight).toFixed(1)}`;
    })
    .join(' ');
  const last = points.at(-1)!;
  const tail = `L${x(end).toFixed(1)},${y(last.weight).toFixed(1)}`;
  const axisY = TOP + PLOT + 14;
  return html`<svg
    class="deployment-chart"
    xmlns="http://www.w3.org/2000/svg"
    role="img"
    aria-label="traffic on the new version over time"
    width="${WIDTH}"
    height="${HEIGHT}"
    viewBox="0 0 ${WIDTH} ${HEIGHT}"
  >
    <text class="axis" x="4" y="${y(1) + 4}">100%</text>
    <text class="axis" x="4" y="${y(0) + 4}">0%</text>
    <line class="grid" x1="${LEFT}" y1="${y(1)}" x2="${WIDTH - RIGHT}" y2="${y(1)}" />
    <line class="grid" x1="${LEFT}" y1="${y(0)}" x2="${WIDTH - RIGHT}" y2="${y(0)}" />
    <path class="weight-line" d="${line} ${tail}" />
    ${d.alarmsSeen.map((a) => html`<circle class="alarm-mark alarm-${a.state.toLowerCase()}" cx="${x(Date.parse(a.at))}" cy="${axisY}" r="4"><title>${a.name} ${a.state} at ${a.at}</title></circle>`)}
    ${d.interventions.map((i) => html`<rect class="intervention-mark" x="${x(Date.parse(i.at)) - 3}" y="${axisY + 8}" width="6" height="6"><title>${i.action} by ${i.by} at ${i.at}</title></rect>`)}
  </svg>`;
}
