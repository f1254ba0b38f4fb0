/**
 * The console's live updates, pushed as server-sent events (`text/event-stream`,
 * https://html.spec.whatwg.org/multipage/server-sent-events.html). The run events stepline announces on the platform
 * bus (source `stepline.runs`: RunStarted, RunEnded, StageChanged, GateChanged, DeploymentChanged, …) reach the
 * console through a rule of its own on the local platform bus, and are passed on to every open page, which refetches
 * the fragment that changed. Nothing polls the store for them. A stage's log is followed by tailing its file (polling
 * the file only), until a run event says the stage has ended.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { projectName } from '../../core/config/stepline-config';
import type { RunEvent, StageRecord } from '../../core/records';
import { RUN_EVENTS } from '../../core/sources/source-events';
import { plainText } from '../../core/text';
import type { RunStore } from '../../store/run-store';
import type { LocalEventBus } from '../event-bus';

/** A comment line every so often keeps idle connections from being closed by whatever sits between. */
const KEEP_ALIVE_MS = 15_000;
/** How often a followed log file is read again. */
const LOG_POLL_MS = 300;
/** The most of a log sent at once: its end, for a long log. */
const LOG_TAIL_BYTES = 512 * 1024;

/** Open event streams, each told of every run event. */
export class LiveUpdates {
  private readonly streams = new Set<ServerResponse>();
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private readonly keepAlive: NodeJS.Timeout;

  constructor(platformBus: LocalEventBus) {
    platformBus.addRule({
      name: 'stepline-console-live-updates',
      pattern: { source: [RUN_EVENTS.source] },
      input: { path: '$.detail' },
      target: async (detail) => this.tell(detail as RunEvent),
    });
    this.keepAlive = setInterval(() => this.streams.forEach((res) => res.write(': keep-alive\n\n')), KEEP_ALIVE_MS);
    this.keepAlive.unref();
  }

  /** Serves one page's event stream until it goes away. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, streamHeaders());
    res.write('retry: 1000\n\n');
    this.streams.add(res);
    req.once('close', () => this.streams.delete(res));
  }

  /** Calls `listener` with each run event until the returned function is called. */
  listen(listener: (event: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tell(event: RunEvent): void {
    const data = JSON.stringify({ kind: event.kind, runId: event.runId, pipeline: event.pipeline });
    for (const res of this.streams) res.write(`event: run\ndata: ${data}\n\n`);
    for (const listener of this.listeners) listener(event);
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const res of this.streams) res.end();
    this.streams.clear();
    this.listeners.clear();
  }
}

export function streamHeaders(): Record<string, string> {
  return { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' };
}

/**
 * The build log of a stage: `<stateDir>/codebuild/builds/<project>/<build>/build.log`, its build named by the stage
 * record (`<project>:<build>`); a stage still running, whose record does not name its build yet, by the newest build
 * of its project begun since the stage started.
 */
export function stageLogPath(stateDir: string, pipeline: string, stage: StageRecord): string | undefined {
  const builds = join(stateDir, 'codebuild', 'builds');
  const [project, build] = stage.buildId?.split(':') ?? [];
  if (project && build) {
    if (!/^[\w.-]+$/.test(project) || !/^[\w.-]+$/.test(build)) return undefined;
    return join(builds, project, build, 'build.log');
  }
  if (stage.status !== 'IN_PROGRESS') return undefined;
  const dir = join(builds, projectName(pipeline, stage.name));
  if (!existsSync(dir)) return undefined;
  const since = Date.parse(stage.startedAt ?? '') - 1000;
  const newest = readdirSync(dir)
    .map((name) => ({ name, at: statSync(join(dir, name)).birthtimeMs || statSync(join(dir, name)).ctimeMs }))
    .filter(({ at }) => !(at < since))
    .sort((a, b) => b.at - a.at)[0];
  return newest ? join(dir, newest.name, 'build.log') : undefined;
}

/**
 * Streams a stage's log as events (`event: log`, one data line per log line), then `event: end` once the stage is
 * over: at once for an ended stage, else when a run event of its run finds it ended.
 */
export function followLog(
  req: IncomingMessage,
  res: ServerResponse,
  source: { stateDir: string; store: RunStore; live: LiveUpdates; runId: string; pipeline: string; stage: string },
): void {
  res.writeHead(200, streamHeaders());
  let offset = -1;
  let partial = '';
  let ended = false;
  let reading = Promise.resolve();
  let path: string | undefined;
  let stage: StageRecord | undefined;

  const send = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    // Made plain first: a carriage return or another line break inside a line must not end the event's data line.
    const shown = lines.flatMap((line) => plainText(line).split('\n'));
    if (shown.length) res.write(`event: log\n${shown.map((line) => `data: ${line}`).join('\n')}\n\n`);
  };
  const read = async () => {
    if (!path && stage) path = stageLogPath(source.stateDir, source.pipeline, stage);
    if (!path || !existsSync(path)) return;
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      if (offset < 0) offset = Math.max(0, size - LOG_TAIL_BYTES);
      if (size <= offset) return;
      const buffer = Buffer.alloc(size - offset);
      await file.read(buffer, 0, buffer.length, offset);
      offset = size;
      send(buffer.toString('utf8'));
    } finally {
      await file.close();
    }
  };
  const queueRead = () => (reading = reading.then(read).catch(() => undefined));
  const finish = async () => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    stopListening();
    await queueRead();
    if (partial) send('\n');
    res.write(`event: end\ndata: ${stage?.status ?? 'no such stage'}\n\n`);
    res.end();
  };
  const refresh = async () => {
    stage = (await source.store.listStages(source.runId)).find((s) => s.name === source.stage);
    if (!stage || stage.status !== 'IN_PROGRESS') await finish();
  };
  const timer = setInterval(queueRead, LOG_POLL_MS);
  const stopListening = source.live.listen((event) => {
    if (event.runId === source.runId) void refresh().catch(() => undefined);
  });
  req.once('close', () => {
    ended = true;
    clearInterval(timer);
    stopListening();
  });
  void refresh()
    .then(queueRead)
    .catch(() => finish());
}
