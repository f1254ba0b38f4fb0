/**
 * A buildspec that uses every key CodeBuild documents (userguide, build-spec-ref), with commands that
 * run anywhere: parsed by the buildspec tests, run by the runner tests.
 */
export const everyKeyBuildspec = (nodeMajor: string) => `version: 0.2
run-as: root
env:
  shell: bash
  variables: { STAGE: test }
  parameter-store: { DB_HOST: /app/db/host }
  exported-variables: [STAGE]
  secrets-manager: { TOKEN: app/token:token }
  git-credential-helper: yes
proxy:
  upload-artifacts: no
  logs: no
batch:
  fast-fail: false
phases:
  install:
    run-as: root
    on-failure: ABORT
    runtime-versions:
      nodejs: ${nodeMajor}
    commands: [node --version]
    finally: [echo installed]
  pre_build:
    on-failure: CONTINUE
    commands: [echo pre]
  build:
    commands:
      - mkdir -p dist docs reports
      - echo app > dist/app.js && echo guide > docs/guide.md
      - echo '<testsuite name="s"><testcase name="t"/></testsuite>' > reports/junit.xml
    finally: [echo built]
  post_build:
    commands: [echo "post $STAGE"]
reports:
  unit:
    files: [junit.xml]
    base-directory: reports
    discard-paths: no
    file-format: JUNITXML
  features:
    files: ['*.json']
    file-format: CUCUMBERJSON
artifacts:
  type: zip
  files: ['**/*']
  name: app
  discard-paths: no
  base-directory: dist
  exclude-paths: ['**/*.map']
  enable-symlinks: yes
  s3-prefix: builds
  secondary-artifacts:
    docs:
      files: ['**/*']
      base-directory: docs
cache:
  key: npm
  paths: ['/root/.npm/**/*']
`;
