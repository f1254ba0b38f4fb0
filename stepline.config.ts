import { defineConfig } from './core/config';

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
      localSeed: 'examples/hello-service',
    },
  ],
});
