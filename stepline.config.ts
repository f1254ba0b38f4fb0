import { defineConfig } from './core/config/stepline-config';

/** The pipelines stepline deploys (`npx cdk deploy`) and runs locally (`npm start`). */
export default defineConfig({
  pipelines: [
    {
      name: 'hello-service',
      source: { type: 'codecommit', repository: 'hello-service', branch: 'main' },
      build: { buildspec: 'buildspecs/build.yml' },
      tests: [
        { name: 'unit-tests', buildspec: 'buildspecs/unit-tests.yml' },
        { name: 'lint', buildspec: 'buildspecs/lint.yml' },
      ],
      // Failures and fixes to Slack and email. Locally they land in .stepline/outbox/; on AWS create
      // the secret (the webhook URL) and verify the sender in SES first (README, "Notifications").
      notifications: {
        slack: { webhookUrlSecret: 'stepline/notifications/hello-service-slack' },
        email: { from: 'ci@example.com', to: ['team@example.com'] },
      },
      // The release gate after the tests (docs/governance.md): risk decides who must approve. Locally the
      // requests land in .stepline/outbox/; at a terminal `npm start` prints each approver's links and
      // waits; with no terminal, local mode's demo approver approves (recorded as the demo).
      approval: {
        approvers: [
          { id: 'release-manager', name: 'Release manager', emails: ['release-manager@example.com'] },
          { id: 'tech-lead', name: 'Tech lead', emails: ['tech-lead@example.com'] },
          { id: 'sre-on-call', name: 'SRE on call', emails: ['sre@example.com'] },
        ],
        groups: { cab: ['release-manager', 'sre-on-call'] },
        classes: { normal: { approvals: 1 }, high: { approvals: 2, group: 'cab' } },
        rules: [
          { class: 'standard', onlyPaths: ['**/*.md', 'docs/**'], reason: 'documentation only' },
          { class: 'high', paths: ['infra/**', 'buildspecs/deploy*.yml'], reason: 'changes what is deployed and how' },
          { class: 'high', minFiles: 40, reason: 'a large change' },
        ],
        emergencyApprovers: ['sre-on-call'],
        // Add `freezes` (e.g. { name: 'weekend', from: { day: 'fri', time: '16:00' }, to: { day: 'mon', time: '08:00' } })
        // to hold approved releases outside change windows.
        timeZone: 'Europe/Berlin',
        expiresAfterHours: 72,
        target: 'production',
      },
      // The release to Lambda after the gate (docs/deployments.md): the build's artifact becomes the code of
      // hello-service, 10% then 50% of the traffic on `live` for 5 minutes each, rolled back by an alarm.
      // createFunction: `cdk deploy` creates the function (answering 503 until the first release) and its alias.
      deploy: {
        function: 'hello-service',
        alias: 'live',
        strategy: { type: 'canary', steps: [10, 50], bakeSeconds: 300 },
        // An HTTP API (payload format 2.0) GET / on the new version, before it takes traffic.
        preTraffic: { event: { version: '2.0', rawPath: '/', requestContext: { http: { method: 'GET' } } } },
        createFunction: {},
        // Staging in another account (README, "Accounts and Regions"): the build is released there all at
        // once and smoke-checked before anyone is asked to approve. That account is bootstrapped to trust this
        // one and holds the target stack (a deploy role only this platform may assume, and the rule sending
        // stepline's alarms back here); the function and its alias must exist there before the first run.
        // `npm start` stands it up under that account id. An `account` on `deploy` itself moves production
        // too (without createFunction, which creates functions in this account only).
        // staging: {
        //   function: 'hello-service-staging',
        //   account: '111122223333',
        //   smokeEvent: { version: '2.0', rawPath: '/', requestContext: { http: { method: 'GET' } } },
        // },
      },
      localSeed: 'examples/hello-service',
    },
  ],
});
