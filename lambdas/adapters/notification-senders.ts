/**
 * The channels a notification is delivered on from AWS: a Slack incoming webhook, SES, and GitHub's
 * commit status API. Secrets (the webhook URL, the GitHub token) are read from Secrets Manager once
 * per container and never logged: an error names the secret, never its value.
 */
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DeliveryError } from '../../core/notification/errors';
import type { CommitStatus } from '../../core/notification/messages';
import type { NotificationSender } from '../../core/ports';
import type { NotificationRecord, NotificationSettings } from '../../core/records';
import { forEmail, forGitHub } from '../../core/text';
import type { SecretReader } from './secrets';

export interface ChannelSendersOptions {
  readonly secrets: SecretReader;
  readonly ses: () => SESv2Client;
  /** GitHub's REST API root. @default https://api.github.com */
  readonly githubApi?: string;
}

/** Delivers each notification on its channel. */
export class ChannelSenders implements NotificationSender {
  constructor(private readonly options: ChannelSendersOptions) {}

  async send(notification: NotificationRecord, settings: NotificationSettings): Promise<void> {
    const { message } = notification;
    switch (notification.channel) {
      case 'slack':
        return postSlack(await this.options.secrets.value(settings.slack!.webhookUrlSecret), message);
      case 'github':
        return postCommitStatus(
          this.options.githubApi ?? 'https://api.github.com',
          await this.options.secrets.value(settings.githubStatuses!.tokenSecret),
          message as CommitStatus,
        );
      case 'email':
        return sendEmail(this.options.ses(), message as unknown as Email);
    }
  }
}

/** Posts a Block Kit payload to a Slack incoming webhook. 429 and 5xx may be retried; other answers are final. */
export async function postSlack(webhookUrl: string, payload: Record<string, unknown>): Promise<void> {
  const response = await request(webhookUrl, { 'content-type': 'application/json' }, JSON.stringify(payload), 'Slack');
  if (response.ok) return;
  throw answerError('Slack', response, await response.text());
}

/** POST /repos/{owner}/{repo}/statuses/{sha} (GitHub REST API). */
export async function postCommitStatus(api: string, token: string, status: CommitStatus): Promise<void> {
  const { repository, sha, state, context, description, target_url } = status;
  const response = await request(
    `${api}/repos/${repository}/statuses/${sha}`,
    {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'user-agent': 'stepline',
      'x-github-api-version': '2022-11-28',
    },
    // The builder wrote it so; a message recorded by an older version and sent again is made so here.
    JSON.stringify({ state, target_url, description: forGitHub.statusDescription(description), context }),
    'GitHub',
  );
  if (response.ok) return;
  throw answerError('GitHub', response, await response.text());
}

interface Email {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

async function sendEmail(ses: SESv2Client, email: Email): Promise<void> {
  try {
    await ses.send(
      new SendEmailCommand({
        FromEmailAddress: email.from,
        Destination: { ToAddresses: [...email.to] },
        Content: {
          Simple: {
            // A header field never carries a line break, whoever recorded the message.
            Subject: { Data: forEmail.header(email.subject), Charset: 'UTF-8' },
            Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
          },
        },
      }),
    );
  } catch (error) {
    const name = (error as Error)?.name ?? 'Error';
    // Throttling and service faults pass; a refused message (unverified identity, sandbox) does not.
    const retryable = [
      'TooManyRequestsException',
      'LimitExceededException',
      'InternalFailure',
      'ServiceUnavailable',
    ].includes(name);
    throw new DeliveryError(
      `SES refused the email: ${name}: ${(error as Error)?.message ?? ''}`.trim(),
      retryable,
      undefined,
      {
        cause: error,
      },
    );
  }
}

async function request(url: string, headers: Record<string, string>, body: string, service: string): Promise<Response> {
  try {
    return await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    // The URL may be a secret (a Slack webhook): the error names the service only.
    throw new DeliveryError(`${service} could not be reached: ${(error as Error)?.name ?? 'error'}`, true, undefined, {
      cause: error,
    });
  }
}

function answerError(service: string, response: Response, body: string): DeliveryError {
  const retryAfter = Number(response.headers.get('retry-after'));
  const retryable = response.status === 429 || response.status >= 500;
  return new DeliveryError(
    `${service} answered ${response.status}: ${body.slice(0, 200)}`,
    retryable,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  );
}
