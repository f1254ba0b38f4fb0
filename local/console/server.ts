/**
 * The web console local mode serves on its endpoint under `/console/` (docs/console.md): pages rendered here as HTML,
 * small script and style files beside them, live updates as server-sent events. Who may use it is auth.ts's; what a
 * button does is actions.ts's; the live events are live.ts's.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { PipelineConfig } from '../../core/config/stepline-config';
import { RUN_STATUSES, type RunStatus } from '../../core/records';
import type { ExecutionEvent } from '../../core/runs/execution-history';
import { readRunView } from '../../store/run-view';
import type { RunStore } from '../../store/run-store';
import { PIPELINE_DEFINITION_FILE } from '../../statemachines';
import type { ReservedEndpoint } from '../aws-endpoint';
import type { LocalEventBus } from '../event-bus';
import type { LocalStepFunctions } from '../step-functions';
import { gitIdentity, RUN_ACTIONS, takeAction, type ActionAnswer, type RunAction } from './actions';
import { cookieName, cookieOf, fromConsoleOrigin, newConsoleToken, sameToken, tokenCookie } from './auth';
import { CONSOLE_PATH, CONTENT_SECURITY_POLICY, html, page } from './html';
import { followLog, LiveUpdates } from './live';
import { CHART_JS_FILE, METRICS_WINDOWS, metricsBody, pipelineTrends, type MetricsWindowName } from './metrics-page';
import { approvalsBody, matchingRuns, openGates, pipelinesBody, runsBody, unauthorizedPage } from './pages';
import { RUN_FRAGMENTS, runBody, runFragment, type RunFragment, type RunPageData } from './run-page';

const STATIC_DIR = join(__dirname, 'static');
/** The console's files: its own, and Chart.js's build from its package (the metrics page's charts). */
const STATIC_FILES: Readonly<Record<string, { readonly type: string; readonly file: string }>> = {
  'console.js': { type: 'text/javascript; charset=utf-8', file: join(STATIC_DIR, 'console.js') },
  'console.css': { type: 'text/css; charset=utf-8', file: join(STATIC_DIR, 'console.css') },
  'metrics.js': { type: 'text/javascript; charset=utf-8', file: join(STATIC_DIR, 'metrics.js') },
  'chart.umd.min.js': { type: 'text/javascript; charset=utf-8', file: CHART_JS_FILE },
};
/** A form's body: a reason at most. */
const MAX_FORM_BYTES = 16 * 1024;
/** Answers to actions kept to be shown once on the page they came from. */
const ANSWERS_KEPT = 50;

export interface LocalConsoleOptions {
  readonly store: RunStore;
  readonly stepFunctions: LocalStepFunctions;
  readonly pipelines: readonly PipelineConfig[];
  readonly stateDir: string;
  /** The local endpoint's address: where the console's buttons send the CLI's requests. */
  readonly endpointUrl: string;
  /** The platform's bus: the run events the console follows. */
  readonly platformBus: LocalEventBus;
  /** Who the console acts as. @default this machine's `git config user.email`, read at each action */
  readonly identity?: () => string | undefined;
}

/**
 * The endpoint's requests under `/console/` go to the console once it is attached; every other request to the
 * endpoint's own handler. The endpoint's Host check (local/local-address.ts) stays in front of both.
 */
export function withConsoleMount(endpoint: ReservedEndpoint): ReservedEndpoint & {
  attachConsole(listener: RequestListener): void;
} {
  let consoleListener: RequestListener | undefined;
  return {
    url: endpoint.url,
    close: () => endpoint.close(),
    serve: (handler) =>
      endpoint.serve((req, res) => {
        const path = (req.url ?? '').split('?')[0]!;
        if (!(path === '/console' || path.startsWith(CONSOLE_PATH))) return handler(req, res);
        if (consoleListener) return consoleListener(req, res);
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('the console is starting: try again in a moment\n');
      }),
    attachConsole: (listener) => (consoleListener = listener),
  };
}

export class LocalConsole {
  /** The token of this start: in the address printed, then in the cookie. */
  readonly token = newConsoleToken();
  private readonly live: LiveUpdates;
  private readonly port: number;
  private readonly definition: unknown;
  private readonly answers = new Map<string, ActionAnswer>();

  constructor(private readonly options: LocalConsoleOptions) {
    this.live = new LiveUpdates(options.platformBus);
    this.port = Number(new URL(options.endpointUrl).port);
    this.definition = JSON.parse(readFileSync(PIPELINE_DEFINITION_FILE, 'utf8'));
  }

  /** The address to open: the token in it is exchanged for a cookie at the first request. */
  get url(): string {
    return `${this.options.endpointUrl}${CONSOLE_PATH}?token=${this.token}`;
  }

  readonly handle: RequestListener = (req, res) => {
    this.serve(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.end();
      this.send(res, 500, 'text/plain; charset=utf-8', `the console failed: ${(error as Error).message}\n`);
    });
  };

  close(): void {
    this.live.close();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    if (url.pathname === '/console') return this.redirect(res, CONSOLE_PATH + url.search);
    const token = url.searchParams.get('token');
    if (token !== null) {
      if (!sameToken(token, this.token)) return this.unauthorized(req, res);
      url.searchParams.delete('token');
      res.setHeader('set-cookie', tokenCookie(this.port, this.token));
      return this.redirect(res, url.pathname + url.search);
    }
    if (!sameToken(cookieOf(req, cookieName(this.port)), this.token)) return this.unauthorized(req, res);

    let path: string[];
    try {
      path = url.pathname.slice(CONSOLE_PATH.length).split('/').map(decodeURIComponent);
    } catch {
      req.resume();
      return this.send(res, 400, 'text/plain; charset=utf-8', 'the address is not well-formed\n');
    }
    if (req.method === 'POST') {
      if (!fromConsoleOrigin(req)) {
        req.resume();
        return this.send(
          res,
          403,
          'text/plain; charset=utf-8',
          'refused: a console action must come from a console page\n',
        );
      }
      if (path[0] === 'runs' && path[1] && RUN_ACTIONS.includes(path[2] as RunAction) && path.length === 3)
        return this.act(req, res, path[1], path[2] as RunAction);
      req.resume();
      return this.send(res, 404, 'text/plain; charset=utf-8', 'no such action\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      return this.send(res, 405, 'text/plain; charset=utf-8', 'GET or POST only\n');
    }
    const pipelines = this.options.pipelines.map((p) => p.name);
    const { store } = this.options;
    switch (path[0]) {
      case '': {
        const trends = await pipelineTrends(store, pipelines);
        return this.page(res, page('pipelines', 'pipelines', await pipelinesBody(store, pipelines, trends), {}));
      }
      case 'static': {
        const served = path.length === 2 && Object.hasOwn(STATIC_FILES, path[1]!) ? STATIC_FILES[path[1]!] : undefined;
        if (!served) break;
        return this.send(res, 200, served.type, readFileSync(served.file));
      }
      case 'metrics': {
        const since = url.searchParams.get('since') ?? '30d';
        if (!Object.hasOwn(METRICS_WINDOWS, since))
          return this.send(
            res,
            400,
            'text/plain; charset=utf-8',
            `since must be one of ${Object.keys(METRICS_WINDOWS).join(', ')}\n`,
          );
        const body = await metricsBody(store, pipelines, since as MetricsWindowName);
        return this.page(res, page('metrics', 'metrics', body, undefined, ['chart.umd.min.js', 'metrics.js']));
      }
      case 'events':
        return this.live.serve(req, res);
      case 'approvals':
        return this.page(res, page('approvals', 'approvals', approvalsBody(await openGates(store)), {}));
      case 'runs': {
        if (path.length === 1) {
          const status = url.searchParams.get('status') || undefined;
          if (status !== undefined && !(RUN_STATUSES as string[]).includes(status))
            return this.send(res, 400, 'text/plain; charset=utf-8', `no run status is called ${status}\n`);
          const filter = {
            pipeline: url.searchParams.get('pipeline') || undefined,
            status: status as RunStatus | undefined,
            branch: url.searchParams.get('branch') || undefined,
            commit: url.searchParams.get('commit') || undefined,
          };
          const runs = await matchingRuns(store, pipelines, filter);
          return this.page(res, page('runs', 'runs', runsBody(runs, pipelines, filter), {}));
        }
        return this.runRoute(req, res, path.slice(1), url);
      }
    }
    return this.notFound(res);
  }

  private async runRoute(req: IncomingMessage, res: ServerResponse, path: string[], url: URL): Promise<void> {
    const [runId, part, stage] = path as [string, string | undefined, string | undefined];
    const answerId = url.searchParams.get('answer');
    const data = await this.runData(runId, answerId ? this.answers.get(answerId) : undefined);
    if (!data) return this.notFound(res);
    if (part === undefined) return this.page(res, page(`run ${runId}`, 'runs', runBody(data), { runId }));
    if (part === 'logs' && stage && path.length === 3) {
      const { run } = data.view;
      return followLog(req, res, { ...this.options, live: this.live, runId, pipeline: run.pipeline, stage });
    }
    if (RUN_FRAGMENTS.includes(part as RunFragment) && path.length === 2)
      return this.send(res, 200, 'text/html; charset=utf-8', runFragment(part as RunFragment, data).markup);
    return this.notFound(res);
  }

  private async runData(runId: string, answer?: ActionAnswer): Promise<RunPageData | undefined> {
    const view = await readRunView(this.options.store, runId);
    if (!view) return undefined;
    return { view, history: this.historyOf(runId, view.run.executionArn), definition: this.definition, answer };
  }

  /** The run's execution's history: by its ARN once recorded, else by its name (the run id). */
  private historyOf(runId: string, executionArn: string | undefined): readonly ExecutionEvent[] {
    const { stepFunctions } = this.options;
    const arn = executionArn ?? stepFunctions.listExecutions().find((e) => e.name === runId)?.executionArn;
    if (!arn) return [];
    try {
      return [...stepFunctions.getExecutionHistory(arn)];
    } catch {
      return [];
    }
  }

  private async act(req: IncomingMessage, res: ServerResponse, runId: string, action: RunAction): Promise<void> {
    const form = new URLSearchParams(await readForm(req));
    const reason = form.get('reason')?.trim() || undefined;
    const identity = (this.options.identity ?? gitIdentity)();
    const answer = await takeAction(this.options.endpointUrl, identity, runId, action, reason);
    const id = randomUUID();
    this.answers.set(id, answer);
    if (this.answers.size > ANSWERS_KEPT) this.answers.delete(this.answers.keys().next().value!);
    // Where the answer is read: a re-run's answer names the new run, which the run page links from its own record.
    return this.redirect(res, `${CONSOLE_PATH}runs/${encodeURIComponent(runId)}?answer=${id}`);
  }

  private unauthorized(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    this.send(res, 401, 'text/html; charset=utf-8', unauthorizedPage());
  }

  private notFound(res: ServerResponse): void {
    this.send(res, 404, 'text/html; charset=utf-8', page('not found', '', html`<h1>not found</h1>`));
  }

  private page(res: ServerResponse, body: string): void {
    this.send(res, 200, 'text/html; charset=utf-8', body);
  }

  private redirect(res: ServerResponse, location: string): void {
    res.writeHead(303, { ...securityHeaders(), location });
    res.end();
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { ...securityHeaders(), 'content-type': type });
    res.end(body);
  }
}

/**
 * Headers on every console answer: its CSP, no sniffing, no framing, nothing cached, and no referrer to another site.
 * `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null` with a form's POST
 * (https://fetch.spec.whatwg.org/#append-a-request-origin-header), which the Origin check must refuse.
 */
function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}

function readForm(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_FORM_BYTES) {
        req.pause();
        reject(new Error(`the form exceeds ${MAX_FORM_BYTES} bytes`));
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
