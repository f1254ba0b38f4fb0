/**
 * The run page's graph: the pipeline's state machine as its ASL defines it (whatever states the file holds), laid out
 * by dagre (a kept layout library: ranks, crossings and edge routes are its), drawn as SVG on the server. Each state
 * is coloured by its status in the execution (core/runs/state-timeline.ts) through a class, so the page needs no
 * inline style.
 */
import dagre from '@dagrejs/dagre';
import { isObject, objectsIn, scopeOf } from '../../core/asl/states';
import type { StateTimeline } from '../../core/runs/state-timeline';
import { duration, html, type Html } from './html';

const NODE_HEIGHT = 34;
const CHAR_WIDTH = 7;
const NODE_PADDING = 28;

/** Where each state goes next: Next, Default, every Choice's Next, every Catch's Next (dashed). */
function transitionsOf(state: Readonly<Record<string, unknown>>): { to: string; caught: boolean }[] {
  const next = [state.Next, state.Default, ...objectsIn(state.Choices).map((c) => c.Next)]
    .filter((to): to is string => typeof to === 'string')
    .map((to) => ({ to, caught: false }));
  const caught = objectsIn(state.Catch)
    .map((c) => c.Next)
    .filter((to): to is string => typeof to === 'string')
    .map((to) => ({ to, caught: true }));
  // One edge per pair of states: a Catch going where Next goes is drawn as the Next.
  return [...next, ...caught].filter(({ to }, i, all) => all.findIndex((t) => t.to === to) === i);
}

/** The SVG of the definition's top-level states, each linked to its row of the table and coloured by its status. */
export function stateGraph(definition: unknown, states: readonly StateTimeline[]): Html {
  const scope = scopeOf(definition);
  if (!scope) return html`<p>the state machine's definition could not be read</p>`;
  const byName = new Map(states.map((s) => [s.name, s]));
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 30, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  const entries = Object.entries(scope.states).filter((e): e is [string, Readonly<Record<string, unknown>>] =>
    isObject(e[1]),
  );
  for (const [name] of entries) {
    graph.setNode(name, { width: name.length * CHAR_WIDTH + NODE_PADDING, height: NODE_HEIGHT });
  }
  const caughtEdges = new Set<string>();
  for (const [name, state] of entries) {
    for (const { to, caught } of transitionsOf(state)) {
      if (!graph.hasNode(to)) continue;
      graph.setEdge(name, to);
      if (caught) caughtEdges.add(`${name}\u0000${to}`);
    }
  }
  dagre.layout(graph);
  const { width = 0, height = 0 } = graph.graph() as { width?: number; height?: number };

  const edges = graph.edges().map((edge) => {
    const points = (graph.edge(edge) as { points: { x: number; y: number }[] }).points;
    const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const caught = caughtEdges.has(`${edge.v}\u0000${edge.w}`);
    return html`<path class="edge${caught ? ' edge-catch' : ''}" d="${d}" marker-end="url(#arrow)" />`;
  });
  const nodes = entries.map(([name, state]) => {
    const node = graph.node(name) as { width: number; height: number; x: number; y: number };
    const timeline = byName.get(name);
    const status = timeline?.status ?? 'not-reached';
    const x = node.x! - node.width / 2;
    const y = node.y! - node.height / 2;
    const title = `${name} (${String(state.Type)}): ${status}${timeline?.durationMs !== undefined ? `, ${duration(timeline.durationMs)}` : ''}${timeline?.iterations ? `, iterations ${timeline.iterations.succeeded}/${timeline.iterations.started} succeeded${timeline.iterations.failed ? `, ${timeline.iterations.failed} failed` : ''}` : ''}`;
    const shape =
      state.Type === 'Choice'
        ? html`<rect class="shape" x="${x}" y="${y}" width="${node.width}" height="${node.height}" rx="17" />`
        : html`<rect class="shape" x="${x}" y="${y}" width="${node.width}" height="${node.height}" rx="4" />`;
    return html`<a
      href="#state-${slug(name)}"
      class="state state-${status} type-${String(state.Type).toLowerCase()}"
      data-state="${name}"
      data-status="${status}"
      ><title>${title}</title>${shape}<text x="${node.x!}" y="${node.y! + 4}" text-anchor="middle">${name}</text></a
    >`;
  });
  return html`<svg
    class="state-graph"
    xmlns="http://www.w3.org/2000/svg"
    role="img"
    aria-label="the run's state machine"
    width="${Math.ceil(width)}"
    height="${Math.ceil(height)}"
    viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}"
  >
    <defs>
      <marker
        id="arrow"
        viewBox="0 0 10 10"
        refX="9"
        refY="5"
        markerWidth="7"
        markerHeight="7"
        orient="auto-start-reverse"
      >
        <path d="M0,0 L10,5 L0,10 z" />
      </marker>
    </defs>
    ${edges}${nodes}
  </svg>`;
}

/** A state's name as a fragment identifier. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}
