/**
 * One local Lambda execution environment: loads a function's code once and runs its handler for each event its
 * parent (local/functions/runtime.ts) sends over IPC, answering as Lambda's Node.js runtime answers — the result as
 * JSON, or a thrown error as `{ errorType, errorMessage, trace }`. Runs as plain CommonJS in its own `node` process so
 * that the function loads no TypeScript tooling and a crash or a timeout kill ends only this environment.
 *
 * argv: the code directory and the handler setting (`index.handler`: module `index`, export `handler`).
 */
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { pathToFileURL } = require('node:url');

const [codeDir, handlerSetting] = process.argv.slice(2);
const dot = handlerSetting.lastIndexOf('.');
const modulePath = handlerSetting.slice(0, dot);
const exportName = handlerSetting.slice(dot + 1);

/** Loading fails as Lambda's init does: every invocation then answers with the same error. */
class InitError extends Error {
  constructor(errorType, message) {
    super(message);
    this.name = errorType;
  }
}

async function loadHandler() {
  // Lambda's Node.js runtime looks for the module with each of these extensions; import() loads CommonJS and ESM alike.
  const file = ['.js', '.mjs', '.cjs'].map((ext) => join(codeDir, modulePath + ext)).find((path) => existsSync(path));
  if (!file) throw new InitError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'`);
  const loaded = await import(pathToFileURL(file).href);
  const handler = loaded[exportName] ?? loaded.default?.[exportName];
  if (typeof handler !== 'function') {
    throw new InitError('Runtime.HandlerNotFound', `${handlerSetting} is undefined or not exported`);
  }
  return handler;
}

const handlerLoaded = loadHandler();
// Not an unhandled rejection: each invocation awaits it and reports the failure.
handlerLoaded.catch(() => undefined);

function describeError(error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function contextFor(request) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: request.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: request.id,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, request.deadline - Date.now()),
  };
}

process.on('message', async (request) => {
  let started = performance.now();
  let reply;
  try {
    const handler = await handlerLoaded;
    const event = JSON.parse(request.event);
    // Duration, as Lambda measures it, is the handler's time: loading the code is init, not invocation.
    started = performance.now();
    const result = await handler(event, contextFor(request));
    reply = { failed: false, payload: JSON.stringify(result) ?? 'null' };
  } catch (error) {
    reply = { failed: true, payload: JSON.stringify(describeError(error)) };
  }
  process.send({ id: request.id, durationMs: performance.now() - started, ...reply });
});

// An environment never outlives local mode: when the parent goes, the IPC channel closes.
process.on('disconnect', () => process.exit(0));
