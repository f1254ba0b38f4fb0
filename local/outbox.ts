/**
 * Local mode's notification channels: each message is delivered into the outbox under the state
 * directory instead of to Slack, SES or GitHub — a Slack payload as JSON, an email as an `.eml` file
 * a mail client opens, commit statuses as JSON lines — so a run's notifications can be read without
 * any account. The notifier records and claims them exactly as on AWS; only the last step differs.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { NotificationSender } from '../core/ports';
import type { NotificationRecord, NotificationSettings } from '../core/records';
import { sendThroughRelay } from './smtp';

export class LocalOutbox implements NotificationSender {
  constructor(readonly dir: string) {}

  async send(notification: NotificationRecord): Promise<void> {
    const path = this.pathOf(notification);
    mkdirSync(dirname(path), { recursive: true });
    switch (notification.channel) {
      case 'slack':
        return writeFileSync(path, `${JSON.stringify(notification.message, null, 2)}\n`);
      case 'email':
        return writeFileSync(path, emlOf(notification));
      case 'github':
        appendFileSync(path, `${JSON.stringify(notification.message)}\n`);
    }
  }

  /** Where a notification is (or would be) delivered in the outbox. */
  pathOf(notification: Pick<NotificationRecord, 'runId' | 'id' | 'channel'>): string {
    const name = `${notification.runId}-${notification.id.replace(/[^\w.-]+/g, '-')}`;
    switch (notification.channel) {
      case 'slack':
        return join(this.dir, 'slack', `${name}.json`);
      case 'email':
        return join(this.dir, 'email', `${name}.eml`);
      case 'github':
        return join(this.dir, 'github-statuses.jsonl');
    }
  }
}

/** The email as an RFC 5322 message: multipart/alternative, plain text and HTML, UTF-8, base64 bodies. */
function emlOf(notification: NotificationRecord): string {
  const { from, to, subject, text, html } = notification.message as {
    from: string;
    to: string[];
    subject: string;
    text: string;
    html: string;
  };
  const boundary = `stepline-${notification.runId}`;
  const encodedSubject = `=?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`;
  const part = (type: string, body: string) =>
    [
      `--${boundary}`,
      `Content-Type: ${type}; charset=UTF-8`,
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(body).toString('base64').replace(/.{76}/g, '$&\r\n'),
    ].join('\r\n');
  return [
    `From: ${from}`,
    `To: ${to.join(', ')}`,
    `Subject: ${encodedSubject}`,
    `Date: ${new Date(notification.createdAt).toUTCString()}`,
    `Message-ID: <${notification.runId}.${notification.id.replace(/[^\w.-]+/g, '-')}@stepline.local>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    part('text/plain', text),
    part('text/html', html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/**
 * A notification secret given to local mode: the file `<secretsDir>/<secret name>` (e.g.
 * `.stepline/secrets/stepline/notifications/team-slack` holding a Slack webhook URL), trimmed.
 */
export function localSecret(secretsDir: string, name: string): string | undefined {
  const path = resolve(secretsDir, name);
  if (relative(secretsDir, path).startsWith('..') || !existsSync(path)) return undefined;
  return readFileSync(path, 'utf8').trim();
}

/**
 * Local mode's channels: Slack and GitHub statuses go out for real when the user gave local mode
 * their secret (a file under `<stateDir>/secrets/`), through the very senders AWS uses; email goes
 * through an SMTP relay when one is given (local mode has no SES); everything else into the outbox.
 */
export class LocalSenders implements NotificationSender {
  constructor(
    private readonly outbox: LocalOutbox,
    private readonly real: NotificationSender,
    private readonly hasSecret: (name: string) => boolean,
    private readonly smtpRelay?: string,
  ) {}

  send(notification: NotificationRecord, settings: NotificationSettings): Promise<void> {
    if (notification.channel === 'email' && this.smtpRelay) {
      const { from, to } = notification.message as { from: string; to: string[] };
      return sendThroughRelay(this.smtpRelay, { from, to, data: emlOf(notification) });
    }
    const secret =
      notification.channel === 'slack'
        ? settings.slack?.webhookUrlSecret
        : notification.channel === 'github'
          ? settings.githubStatuses?.tokenSecret
          : undefined;
    return secret && this.hasSecret(secret) ? this.real.send(notification, settings) : this.outbox.send(notification);
  }
}
