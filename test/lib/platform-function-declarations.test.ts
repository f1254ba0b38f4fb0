/**
 * Each platform function is deployed as core/platform-functions.ts declares it, and as nothing more:
 * its role holds exactly the declared actions (beyond its logs, traces and, when EventBridge invokes
 * it, its dead-letter queue), its environment exactly the declared settings and the table's name, its
 * timeout the declared one, and each declared invocation is there. Read from the synthesized platform
 * stack against the declaration itself; a pipeline's stack holds no rule (every rule is the platform's).
 */
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { parseConfig } from '../../core/config/stepline-config';
import { CATALOG_PATH, ENV, PLATFORM_STACK, pipelineStackName } from '../../core/platform';
import {
  PLATFORM_FUNCTIONS,
  functionArnParameterName,
  functionsPipelinesInvoke,
  platformFunctionNames,
  taskFunctions,
  type PlatformFunctionDeclaration,
  type PlatformFunctionName,
  type PlatformInvocation,
} from '../../core/platform-functions';
import type { MadePlatformFunction } from '../../lib/platform-function';
import { PipelineStack } from '../../lib/pipeline-stack';
import { PlatformStack } from '../../lib/platform-stack';
import { stackArnOf, toTargetInput } from '../../lib/source-triggers';
import { CDK_CONTEXT, statementsOfRole, type Resource, type Template } from '../support/cdk';

let stack: PlatformStack;
let template: Template;

beforeAll(() => {
  const app = new App({ context: CDK_CONTEXT });
  stack = new PlatformStack(app, PLATFORM_STACK);
  template = app.synth().getStackByName(stack.stackName).template as Template;
});

const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
const resourceOf = (construct: IConstruct): Resource => template.Resources[logicalId(construct)]!;
const made = (name: PlatformFunctionName): MadePlatformFunction =>
  (stack.functions.functions.get(name) ?? stack.approvals.functions.get(name))!;
const declared = (name: PlatformFunctionName): PlatformFunctionDeclaration => PLATFORM_FUNCTIONS[name];
const invokedAsynchronously = (declaration: PlatformFunctionDeclaration) =>
  declaration.invokedBy.some(({ by }) => by === 'rule' || by === 'schedule');
/** A statement's actions, sorted, as one string: statements compare by what they allow. */
const actionsOf = (actions: string | readonly string[]) => [actions].flat().sort().join(' ');

describe('every declared function is made, once', () => {
  test('the platform stack makes each declared function and no other', () => {
    const made = [...stack.functions.functions.keys(), ...stack.approvals.functions.keys()];
    expect(made.sort()).toEqual([...platformFunctionNames()].sort());
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(platformFunctionNames().length);
  });
});

describe.each(platformFunctionNames())('%s', (name) => {
  const declaration = declared(name);

  test("its role holds exactly the declared actions, beside its logs', traces' and dead-letter queue's", () => {
    const { role } = made(name);
    const statements = statementsOfRole(template, logicalId(role.role));
    const expected = [
      'logs:CreateLogStream logs:PutLogEvents',
      'xray:PutTelemetryRecords xray:PutTraceSegments',
      ...(invokedAsynchronously(declaration) ? ['sqs:SendMessage'] : []),
      ...declaration.grants.map(({ actions }) => actionsOf(actions)),
      ...(declaration.grantsOnAnyResource ?? []).map(({ actions }) => actionsOf(actions)),
    ];
    expect(statements.map((s) => actionsOf(s.Action)).sort()).toEqual(expected.sort());
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    // A `*` resource only for what the declaration puts on any resource (and X-Ray).
    const onAny = statements.filter((s) => s.Resource === '*').map((s) => actionsOf(s.Action));
    expect(onAny.sort()).toEqual(
      [
        'xray:PutTelemetryRecords xray:PutTraceSegments',
        ...(declaration.grantsOnAnyResource ?? []).map(({ actions }) => actionsOf(actions)),
      ].sort(),
    );
  });

  test('its environment is exactly the declared settings and the table name', () => {
    const { fn } = made(name);
    const variables = (resourceOf(fn).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(variables).sort()).toEqual(
      [ENV.tableName, 'NODE_OPTIONS', ...declaration.settings.map((setting) => ENV[setting])].sort(),
    );
    expect(variables[ENV.tableName]).toEqual(stack.resolve(stack.runStore.table.tableName));
    if (declaration.settings.includes('catalogPath')) expect(variables[ENV.catalogPath]).toBe(CATALOG_PATH);
    if (declaration.settings.includes('sourceBusName')) {
      expect(variables[ENV.sourceBusName]).toEqual(stack.resolve(stack.sources.bus.eventBusName));
    }
  });

  test('its timeout, memory, description and dead-letter queue are the declared ones', () => {
    const { Properties } = resourceOf(made(name).fn);
    expect(Properties.Timeout).toBe(declaration.timeoutSeconds);
    expect(Properties.MemorySize).toBe(declaration.memoryMb ?? 256);
    expect(Properties.Description).toBe(declaration.description);
    expect(Properties.DeadLetterConfig !== undefined).toBe(invokedAsynchronously(declaration));
  });

  test('each declared invocation is made', () => {
    const { fn, role, rules, url } = made(name);
    const functionArn = stack.resolve(fn.functionArn) as unknown;
    for (const invocation of declaration.invokedBy) {
      switch (invocation.by) {
        case 'rule':
        case 'schedule': {
          const rule = resourceOf(rules.get(invocation.id)!);
          const [target] = rule.Properties.Targets as { Arn: unknown; Input?: string }[];
          expect(target!.Arn).toEqual(functionArn);
          expect(rule.Properties.Description).toBe(invocation.description);
          if (invocation.by === 'schedule') {
            expect(rule.Properties.ScheduleExpression).toBe(`rate(${invocation.everyMinutes} minutes)`);
            expect(JSON.parse(target!.Input!)).toEqual(invocation.input);
          } else {
            // The declared trigger's pattern and input, on the declared bus.
            const trigger = invocation.trigger(stackArnOf(stack));
            expect(rule.Properties.EventPattern).toEqual(stack.resolve(trigger.pattern));
            expect(rule.Properties.EventBusName).toEqual(
              invocation.bus === 'platform' ? stack.resolve(stack.sources.bus.eventBusName) : undefined,
            );
            const input = stack.resolve(toTargetInput(trigger.input).bind(rules.get(invocation.id)!)) as {
              inputPath?: string;
              inputPathsMap?: Record<string, string>;
              inputTemplate?: string;
            };
            if (input.inputPath !== undefined) expect(target).toMatchObject({ InputPath: input.inputPath });
            else
              expect(target).toMatchObject({
                InputTransformer: { InputPathsMap: input.inputPathsMap, InputTemplate: input.inputTemplate },
              });
          }
          break;
        }
        case 'functionUrl':
          expect(resourceOf(url!).Properties.AuthType).toBe('NONE');
          break;
        case 'function': {
          // The caller's declared grant is what lets it invoke this function.
          const caller = statementsOfRole(template, logicalId(made(invocation.caller).role.role));
          expect(caller).toContainEqual(
            expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: functionArn }),
          );
          break;
        }
        case 'task':
        case 'httpApi':
          break;
      }
    }
    if (declaration.roleName) {
      expect(resourceOf(role.role).Properties.RoleName).toEqual(stack.resolve(declaration.roleName(stack.region)));
    }
  });
});

describe('the SSM parameters through which pipeline stacks find the functions', () => {
  test('keep the names deployed pipeline stacks read', () => {
    expect(
      Object.fromEntries(functionsPipelinesInvoke().map((name) => [name, functionArnParameterName(name)])),
    ).toEqual({
      // The publisher's and the starter's are gone: their rules are the platform's, no pipeline names them.
      recordProgress: '/stepline/platform/record-progress-function-arn',
      deploy: '/stepline/platform/deploy-function-arn',
      approvalGate: '/stepline/platform/approval-gate-function-arn',
    });
  });

  test('each holds its function ARN', () => {
    const published = Object.values(template.Resources).filter((r) => r.Type === 'AWS::SSM::Parameter');
    for (const name of functionsPipelinesInvoke()) {
      expect(published).toContainEqual(
        expect.objectContaining({
          Properties: expect.objectContaining({
            Name: functionArnParameterName(name),
            Value: stack.resolve(made(name).fn.functionArn),
          }) as unknown,
        }),
      );
    }
  });

  test("the state machines' substitutions are the declared task invocations", () => {
    expect(taskFunctions()).toEqual([
      { substitution: 'RecordProgressFunctionArn', name: 'recordProgress' },
      { substitution: 'DeployFunctionArn', name: 'deploy' },
      { substitution: 'ApprovalGateFunctionArn', name: 'approvalGate' },
    ]);
  });
});

test('the deploy function has 512 MB, room for a 50 MB artifact uploaded into another Region; the others 256 MB', () => {
  expect(resourceOf(made('deploy').fn).Properties.MemorySize).toBe(512);
  expect(resourceOf(made('startRun').fn).Properties.MemorySize).toBe(256);
});

describe("a pipeline has no rule of its own: the platform's rules route by the catalog", () => {
  const [orders, web] = parseConfig({
    pipelines: [
      {
        name: 'orders',
        source: { type: 'codecommit', repository: 'orders-repo', branch: 'main' },
        build: { buildspec: 'buildspecs/build.yml' },
        deploy: { function: 'orders-api', extraAlarms: ['orders-5xx'] },
      },
      {
        name: 'web',
        source: {
          type: 'github',
          owner: 'acme',
          repo: 'web',
          branch: 'main',
          connectionArn:
            'arn:aws:codeconnections:eu-west-1:111122223333:connection/0b8e3c4a-1d2f-4e5a-9b6c-7d8e9f0a1b2c',
        },
        build: { buildspec: 'buildspecs/build.yml' },
      },
    ],
  }).pipelines;

  test.each([orders!, web!])('$name: no rule, no Lambda permission, no queue in its stack', (pipeline) => {
    const app = new App({ context: CDK_CONTEXT });
    const pipelineStack = new PipelineStack(app, pipelineStackName(pipeline.name), { pipeline });
    const pipelineTemplate = app.synth().getStackByName(pipelineStack.stackName).template as Template;
    const types = Object.values(pipelineTemplate.Resources).map((r) => r.Type);
    expect(types).not.toContain('AWS::Events::Rule');
    expect(types).not.toContain('AWS::Lambda::Permission');
    expect(types).not.toContain('AWS::SQS::Queue');
  });

  test("the platform's rules: a push rule and an alarm rule on the default bus, a run rule on the platform's bus, each naming no pipeline", () => {
    const rules = platformFunctionNames().flatMap((name) =>
      PLATFORM_FUNCTIONS[name].invokedBy.flatMap((invocation: PlatformInvocation) =>
        invocation.by === 'rule' ? [{ name, id: invocation.id, bus: invocation.bus }] : [],
      ),
    );
    expect(rules).toEqual(
      expect.arrayContaining([
        { name: 'publishSourceChange', id: 'PushRule', bus: 'default' },
        { name: 'startRun', id: 'RunRule', bus: 'platform' },
        { name: 'deploy', id: 'AlarmRule', bus: 'default' },
      ]),
    );
  });
});
