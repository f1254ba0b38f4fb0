/**
 * stepline's command line, as data: each command's synopsis, its own options, its arguments, and
 * what the exit codes mean. `parseCommandLine` turns argv into a command to run, a text to print
 * (help, version), or a usage error naming what was wrong — never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_FILE } from '../bin/config-file';
import { DEPLOYMENT_CONTROL_ACTIONS } from '../core/schemas';
import { DEFAULT_LOCAL_PORT } from '../local/local-address';
import { RUN_STATUSES } from '../core/records';
import { isRunStatus } from './run-text';

const LINE_WIDTH = 100;

/** What an exit code means, for every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const EXIT_CODES = `exit codes:
  0  success
  1  a run failed, a decision or control was refused, or stepline could not do what was asked
     (an invalid config, local mode not running, the platform not reachable)
  2  a usage error: an unknown command or option, a missing or unexpected argument`;

interface OptionSpec {
  readonly type: 'boolean' | 'string';
  /** The value's name in the synopsis (string options). */
  readonly value?: string;
  readonly default?: string | boolean;
  readonly description: string;
}

interface CommandSpec {
  readonly synopsis: string;
  readonly summary: string;
  /** Named arguments, in order; a name in brackets is optional. */
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Options a command cannot do without. */
  readonly required?: readonly string[];
  /** What the command's exit codes mean, where they say more than EXIT_CODES. */
  readonly exits?: string;
  readonly notes?: string;
}

const DECISION_EXITS = `  0  the decision was recorded (the reply says whether it ended the gate)
  1  the decision was refused (the reply says why, and who may decide), or stepline could not reach
     local mode or the platform
  2  a usage error`;

const MANUAL_RUN_EXITS = `  0  the run was asked for: its id is printed, and whether it waits for the runs before it
  1  refused (the reply says why: an unknown run, pipeline or commit, a run not yet ended), or stepline
     could not reach local mode or the platform
  2  a usage error`;

const STATE_DIR: OptionSpec = {
  type: 'string',
  value: 'DIR',
  default: '.stepline',
  description: 'where local state is kept (default .stepline)',
};
const AWS: OptionSpec = {
  type: 'boolean',
  default: false,
  description:
    'against the deployed platform, as your IAM identity (this shell\'s AWS credentials), instead of local mode (as your git identity, git config user.email, against a running "npm start -- --serve")',
};

const CONFIG: OptionSpec = {
  type: 'string',
  value: 'FILE',
  default: DEFAULT_CONFIG_FILE,
  description:
    "the pipeline configuration, a .ts module with a default export or .json (default: stepline's own stepline.config.ts)",
};

const READS = {
  json: { type: 'boolean', default: false, description: 'the records as stored, as JSON (log events one per line)' },
  aws: {
    type: 'boolean',
    default: false,
    description:
      "the deployed platform's runs, read with this shell's AWS credentials (the policy in the platform's OperatorReadPolicyArn output), instead of local mode's (running or not)",
  },
  'state-dir': STATE_DIR,
  config: CONFIG,
} as const satisfies Record<string, OptionSpec>;

const READ_EXITS = `  0  shown
  1  no such run, stage or log, or it could not be read (the message says why: no local runs, no
     AWS credentials, access denied)
  2  a usage error`;

const RUN_CONTROL_EXITS = `  0  done (the reply says what happened)
  1  refused (the reply says why: unknown run, not in a status it applies to, nothing to resume), or stepline
     could not reach local mode or the platform
  2  a usage error`;

export const COMMANDS = {
  start: {
    synopsis:
      'stepline start [--serve] [--state-dir DIR] [--config FILE] [--aws-credentials] [--max-builds N] [--no-cache] [--time-scale N] [--smtp-relay URL] [--port N]',
    summary: "run local mode: push each pipeline's local source and follow the runs it starts",
    args: [],
    options: {
      serve: {
        type: 'boolean',
        default: false,
        description: 'keep local mode running after the runs end (push to a local repository to run again)',
      },
      'state-dir': STATE_DIR,
      config: CONFIG,
      'aws-credentials': {
        type: 'boolean',
        default: false,
        description:
          "let builds use this shell's AWS credentials (AWS_* variables, ~/.aws); without it a build has none, where on CodeBuild it would have its project's service role",
      },
      'max-builds': {
        type: 'string',
        value: 'N',
        description: 'how many builds run at once; the rest wait their turn (default: the number of cores)',
      },
      'no-cache': {
        type: 'boolean',
        default: false,
        description:
          "a clean run: no build restores or saves its buildspec's cache (kept in DIR/cache/<project>; without this, a build restores it before its install phase and saves it when it succeeds)",
      },
      'time-scale': {
        type: 'string',
        value: 'N',
        default: '60',
        description:
          "how many times shorter the platform's waits are, 1 to 3600 (default 60: a 5-minute bake takes 5 s, a one-minute alarm period 1 s, a 72-hour gate expires in 72 minutes); the clock is not scaled: run times, timestamps and deadlines shown are real",
      },
      'smtp-relay': {
        type: 'string',
        value: 'URL',
        description:
          'send notification emails through this relay (smtp://host:port, e.g. a local mail catcher) instead of writing them to .stepline/outbox/email/',
      },
      port: {
        type: 'string',
        value: 'N',
        default: String(DEFAULT_LOCAL_PORT),
        description: `the loopback port local mode listens on, 1 to 65535 (default ${DEFAULT_LOCAL_PORT}): approval links, the GitHub webhook and the CLI reach it there, so keep it the same across restarts for links sent earlier to work`,
      },
    },
    exits: `  0  every run it followed succeeded (or was skipped by the pipeline's filters); with the bundled
     demo: its first run was released, and its deliberately bad change was rolled back as intended
  1  a run failed, was rejected or expired at its release gate, or the demo's bad change was not
     rolled back (released, rejected, or failed before its release); or the config is invalid, or
     the port or the state directory is in use by another process
  2  a usage error
  with --serve it runs until stopped (Ctrl-C: exit 130)`,
  },
  approvals: {
    synopsis: 'stepline approvals [RUN] [--aws] [--state-dir DIR]',
    summary: "the release gates waiting, and for whom; with RUN, that gate's change record, decisions and audit trail",
    args: ['[RUN]'],
    options: { aws: AWS, 'state-dir': STATE_DIR },
  },
  approve: {
    synopsis: 'stepline approve RUN [--override --reason TEXT] [--aws] [--state-dir DIR]',
    summary: "approve RUN's release gate",
    args: ['RUN'],
    options: {
      override: {
        type: 'boolean',
        default: false,
        description:
          'an emergency override: passes the gate at once, whether it is held by a freeze or still waiting for approvals (an emergency approver who is not an author of the change; needs --reason; audited and flagged for post-implementation review)',
      },
      reason: { type: 'string', value: 'TEXT', description: 'why (needed with --override)' },
      aws: AWS,
      'state-dir': STATE_DIR,
    },
    exits: DECISION_EXITS,
  },
  reject: {
    synopsis: 'stepline reject RUN --reason TEXT [--aws] [--state-dir DIR]',
    summary: "reject RUN's release gate: the run ends REJECTED and nothing is released",
    args: ['RUN'],
    options: {
      reason: { type: 'string', value: 'TEXT', description: 'why, as the change record and the approvers are told' },
      aws: AWS,
      'state-dir': STATE_DIR,
    },
    required: ['reason'],
    exits: DECISION_EXITS,
  },
  deploy: {
    synopsis: 'stepline deploy promote|pause|resume|abort RUN --reason TEXT [--aws] [--state-dir DIR]',
    summary:
      "an operator's control of RUN's deployment: promote (all traffic now), pause or resume its steps, abort (roll back)",
    args: ['ACTION', 'RUN'],
    options: {
      reason: { type: 'string', value: 'TEXT', description: 'why, as the deployment record keeps it' },
      aws: AWS,
      'state-dir': STATE_DIR,
    },
    required: ['reason'],
    exits: `  0  the control was taken
  1  the control was refused (the reply says why), or stepline could not reach local mode or the platform
  2  a usage error`,
  },
  cancel: {
    synopsis: 'stepline cancel RUN --reason TEXT [--aws] [--state-dir DIR]',
    summary: 'stop RUN (QUEUED or RUNNING): it ends CANCELLED with who and why, and its pipeline moves on',
    args: ['RUN'],
    options: {
      reason: { type: 'string', value: 'TEXT', description: 'why, as the run keeps it' },
      aws: AWS,
      'state-dir': STATE_DIR,
    },
    required: ['reason'],
    exits: RUN_CONTROL_EXITS,
  },
  redrive: {
    synopsis: 'stepline redrive RUN [--aws] [--state-dir DIR]',
    summary: 'resume a FAILED RUN at the step that failed (docs/run-control.md), recorded on the run',
    args: ['RUN'],
    options: { aws: AWS, 'state-dir': STATE_DIR },
    exits: RUN_CONTROL_EXITS,
  },
  rerun: {
    synopsis: 'stepline rerun RUN [--aws] [--state-dir DIR]',
    summary: "a new run of RUN's pipeline and commit, recorded as a re-run of RUN by you (RUN must have ended)",
    args: ['RUN'],
    options: { aws: AWS, 'state-dir': STATE_DIR },
    exits: MANUAL_RUN_EXITS,
  },
  release: {
    synopsis: 'stepline release PIPELINE [--commit SHA] [--aws] [--state-dir DIR]',
    summary:
      "a run of PIPELINE started by you, as CodePipeline's Release change: of SHA, else of its branch's head (a GitHub pipeline needs --commit); the pipeline's filters do not apply",
    args: ['PIPELINE'],
    options: {
      commit: { type: 'string', value: 'SHA', description: 'the commit to run (40 hex characters)' },
      aws: AWS,
      'state-dir': STATE_DIR,
    },
    exits: MANUAL_RUN_EXITS,
  },
  doctor: {
    synopsis: 'stepline doctor [--aws] [--config FILE]',
    summary:
      "the account quotas the configured app needs (EventBridge rules per bus, IAM roles, stacks, projects, …), against each quota's default, or with --aws against your account's",
    args: [],
    options: {
      aws: {
        type: 'boolean',
        default: false,
        description:
          "against the account and Region this shell's AWS credentials reach: its applied quotas (Service Quotas) and what it already uses (read-only calls)",
      },
      config: CONFIG,
    },
    exits: `  0  every quota fits (a warning names each one the app would use 80% or more of)
  1  a quota would be exceeded, or the config is invalid, or (--aws) there are no credentials or
     access to a read was denied (the message names the action)
  2  a usage error`,
  },
  // The reads of runs (cli/runs.ts): wherever the runs are, local mode running or not.
  runs: {
    synopsis:
      'stepline runs [--pipeline P] [--status S] [--branch B] [--limit N] [--json] [--aws] [--state-dir DIR] [--config FILE]',
    summary: 'the runs, newest first: status, branch, commit, start, duration and what started each',
    args: [],
    options: {
      pipeline: { type: 'string', value: 'P', description: "this pipeline's runs only" },
      status: { type: 'string', value: 'S', description: `runs with this status only: ${RUN_STATUSES.join(', ')}` },
      branch: { type: 'string', value: 'B', description: 'runs of this branch (or tag) only' },
      limit: { type: 'string', value: 'N', default: '20', description: 'at most N runs, 1 to 1000 (default 20)' },
      ...READS,
    },
    exits: READ_EXITS,
  },
  run: {
    synopsis: 'stepline run RUN [--json] [--aws] [--state-dir DIR] [--config FILE]',
    summary:
      'one run whole: its stages, tests and failure, its release gate (decisions, audit trail), its deployment (steps, traffic, alarms), its execution and where its logs are',
    args: ['RUN'],
    options: READS,
    exits: READ_EXITS,
  },
  logs: {
    synopsis: 'stepline logs RUN [--stage S] [--follow] [--json] [--aws] [--state-dir DIR] [--config FILE]',
    summary: "a stage's build log (CloudWatch Logs on AWS): the failed stage's, else the last that ran",
    args: ['RUN'],
    options: {
      stage: { type: 'string', value: 'S', description: "this stage's log" },
      follow: {
        type: 'boolean',
        default: false,
        description: 'while the stage runs, print its log as it grows (every second), until the stage ends',
      },
      ...READS,
    },
    exits: READ_EXITS,
  },
  metrics: {
    synopsis: 'stepline metrics [--pipeline P] [--since 30d] [--json] [--aws] [--state-dir DIR] [--config FILE]',
    summary:
      "the DORA metrics of the pipelines' releases (lead time, deployment frequency, change fail rate, recovery time, rework rate) with their bands, per pipeline and overall",
    args: [],
    options: {
      pipeline: { type: 'string', value: 'P', description: 'only this pipeline' },
      since: {
        type: 'string',
        value: 'N',
        default: '30d',
        description: 'the window, ending now: N hours, days or weeks (12h, 30d, 8w; default 30d)',
      },
      json: { type: 'boolean', default: false, description: 'the whole report as JSON (no data: null)' },
      aws: {
        type: 'boolean',
        default: false,
        description:
          "the deployed platform's run table, read with this shell's AWS credentials, instead of local mode's",
      },
      'state-dir': STATE_DIR,
      config: CONFIG,
    },
  },
  help: {
    synopsis: 'stepline help [COMMAND]',
    summary: "this text, or a command's own",
    args: ['[COMMAND]'],
    options: {},
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

type Values = Record<string, string | boolean | undefined>;

export type CommandLine =
  | {
      readonly kind: 'run';
      readonly command: Exclude<CommandName, 'help'>;
      readonly args: string[];
      readonly values: Values;
    }
  /** Printed on stdout, exit 0. */
  | { readonly kind: 'print'; readonly text: string }
  /** A one-line error and the usage that fits, on stderr, exit 2. */
  | { readonly kind: 'usage-error'; readonly message: string; readonly usage: string };

/** The usage of every command, and how to get more. */
export function globalUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'usage: stepline <command> [options]   (stepline <command> --help for its own)',
    '',
    ...Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}  ${wrap(spec.summary, width + 4)}`),
    '',
    '  --version  the version of stepline',
    '',
    EXIT_CODES,
  ].join('\n');
}

/** One command's usage: its synopsis, its options, its exit codes. */
export function commandUsage(command: CommandName): string {
  const spec: CommandSpec = COMMANDS[command];
  const flags: [string, string][] = Object.entries(spec.options).map(([name, option]) => [
    `--${name}${option.value ? ` ${option.value}` : ''}`,
    option.description,
  ]);
  flags.push(['-h, --help', 'this text']);
  const width = Math.max(...flags.map(([flag]) => flag.length));
  return [
    `usage: ${wrap(spec.synopsis, spec.synopsis.indexOf(' ', 'stepline '.length) + 'usage: '.length + 1)}`,
    '',
    `  ${wrap(spec.summary, 2)}`,
    '',
    ...flags.map(([flag, description]) => `  ${flag.padEnd(width)}  ${wrap(description, width + 4)}`),
    '',
    spec.exits ? `exit codes:\n${spec.exits}` : EXIT_CODES,
  ].join('\n');
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return `stepline ${pkg.version}`;
}

/** Reads argv (without node and the script): the command first, then its own options and arguments. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [first, ...rest] = argv;
  if (first === undefined) return usageError('a command is needed', globalUsage());
  if (first === '--help' || first === '-h') return { kind: 'print', text: globalUsage() };
  if (first === '--version') return { kind: 'print', text: version() };
  if (first.startsWith('-')) return usageError(`unknown option ${first} (the command comes first)`, globalUsage());
  if (!Object.hasOwn(COMMANDS, first)) return usageError(`unknown command "${first}"`, globalUsage());
  const command = first as CommandName;
  const spec: CommandSpec = COMMANDS[command];
  const usage = commandUsage(command);
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, option]) => [name, { type: option.type }]),
  );
  const { tokens } = parseArgs({
    args: rest,
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help' && token.value === undefined))
    return { kind: 'print', text: usage };
  const values: Values = Object.fromEntries(
    Object.entries(spec.options).map(([name, option]) => [name, option.default]),
  );
  const args: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      args.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    if (token.name === 'help') return usageError(`${token.rawName} takes no value`, usage);
    const option = Object.hasOwn(spec.options, token.name) ? spec.options[token.name] : undefined;
    if (!option) return usageError(`unknown option ${token.rawName}${knownHint(token.name)}`, usage);
    if (option.type === 'boolean') {
      if (token.value !== undefined) return usageError(`${token.rawName} takes no value`, usage);
      values[token.name] = true;
    } else {
      // Without an = sign, a value that looks like an option is another option forgotten a value.
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
        return usageError(`${token.rawName} needs a value (${token.rawName} ${option.value ?? 'VALUE'})`, usage);
      values[token.name] = token.value;
    }
  }
  const needed = spec.args.filter((arg) => !arg.startsWith('['));
  if (args.length < needed.length)
    return usageError(
      `${needed.slice(args.length).join(' and ')} ${needed.length - args.length > 1 ? 'are' : 'is'} missing`,
      usage,
    );
  if (args.length > spec.args.length) return usageError(`unexpected argument "${args[spec.args.length]}"`, usage);
  for (const name of spec.required ?? [])
    if (values[name] === undefined) return usageError(`--${name} is required`, usage);
  if (command === 'deploy' && !(DEPLOYMENT_CONTROL_ACTIONS as readonly string[]).includes(args[0]!))
    return usageError(`unknown action "${args[0]}": one of ${DEPLOYMENT_CONTROL_ACTIONS.join(', ')}`, usage);
  if (command === 'release' && values.commit !== undefined && !/^[0-9a-f]{40}$/.test(String(values.commit)))
    return usageError(`--commit must be a full commit id (40 hex characters), got "${String(values.commit)}"`, usage);
  if (command === 'runs' && values.status !== undefined && !isRunStatus(String(values.status)))
    return usageError(`unknown status "${values.status}": one of ${RUN_STATUSES.join(', ')}`, usage);
  if (command === 'runs' && !(/^[1-9]\d{0,3}$/.test(String(values.limit)) && Number(values.limit) <= 1000))
    return usageError(`--limit must be a whole number from 1 to 1000, got ${values.limit}`, usage);
  if (command === 'approve' && values.override && values.reason === undefined)
    return usageError('--override needs --reason', usage);
  if (command === 'help') {
    const about = args[0];
    if (about === undefined) return { kind: 'print', text: globalUsage() };
    if (!Object.hasOwn(COMMANDS, about)) return usageError(`unknown command "${about}"`, globalUsage());
    return { kind: 'print', text: commandUsage(about as CommandName) };
  }
  return { kind: 'run', command: command as Exclude<CommandName, 'help'>, args, values };
}

/** Text wrapped at LINE_WIDTH columns, its continuation lines indented by `indent`. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > LINE_WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** A flag another command has: say which, so that the mistake is plain. */
function knownHint(name: string): string {
  const owners = Object.entries(COMMANDS)
    .filter(([, spec]) => Object.hasOwn(spec.options, name))
    .map(([command]) => command);
  return owners.length ? ` (an option of ${owners.join(', ')})` : '';
}

function usageError(message: string, usage: string): CommandLine {
  return { kind: 'usage-error', message, usage };
}
