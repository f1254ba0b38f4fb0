/**
 * A plain SMTP client for local mode's email relay (a development mail catcher such as Mailpit or
 * MailHog on localhost, or a relay inside a trusted network): EHLO, MAIL FROM, RCPT TO, DATA, QUIT,
 * each reply checked. No TLS and no authentication: anything further out should be reached through a
 * relay the machine trusts. AWS sends through SES; this exists only for local mode.
 */
import { connect, type Socket } from 'node:net';
import { DeliveryError } from '../core/notification/errors';

export interface SmtpMessage {
  readonly from: string;
  readonly to: readonly string[];
  /** The whole RFC 5322 message, CRLF line ends. */
  readonly data: string;
}

const TIMEOUT_MS = 10_000;

/** Sends one message through `relay` (`smtp://host:port`); throws DeliveryError naming the step that failed. */
export async function sendThroughRelay(relay: string, message: SmtpMessage): Promise<void> {
  const url = new URL(relay);
  if (url.protocol !== 'smtp:') throw new DeliveryError(`the SMTP relay must be smtp://host:port, got ${relay}`, false);
  const socket = connect({ host: url.hostname, port: Number(url.port || 25) });
  socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('the relay did not answer in time')));
  const replies = replyReader(socket);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    await expect(replies, 220, 'greeting');
    await command(socket, replies, 'EHLO stepline.local', 250);
    await command(socket, replies, `MAIL FROM:<${message.from}>`, 250);
    for (const to of message.to) await command(socket, replies, `RCPT TO:<${to}>`, 250);
    await command(socket, replies, 'DATA', 354);
    // Dot-stuffing: a line that starts with "." gets another, so no line ends the data early.
    const body = message.data.replace(/\r\n\./g, '\r\n..');
    await command(socket, replies, `${body.endsWith('\r\n') ? body : `${body}\r\n`}.`, 250);
    await command(socket, replies, 'QUIT', 221);
  } catch (error) {
    if (error instanceof DeliveryError) throw error;
    throw new DeliveryError(`the SMTP relay ${url.host} failed: ${(error as Error).message}`, true, undefined, {
      cause: error,
    });
  } finally {
    socket.destroy();
  }
}

type Replies = () => Promise<{ code: number; text: string }>;

async function command(socket: Socket, replies: Replies, line: string, code: number): Promise<void> {
  socket.write(`${line}\r\n`);
  await expect(replies, code, line.split(/[ :\r]/)[0]!);
}

async function expect(replies: Replies, code: number, step: string): Promise<void> {
  const reply = await replies();
  if (reply.code !== code) {
    // 4xx is temporary (try again later), 5xx permanent.
    throw new DeliveryError(`the SMTP relay refused ${step}: ${reply.code} ${reply.text}`, reply.code < 500);
  }
}

/** Reads SMTP replies, joining multi-line ones (`250-…` continued until `250 …`). */
function replyReader(socket: Socket): Replies {
  let buffer = '';
  const waiting: ((reply: { code: number; text: string }) => void)[] = [];
  const failures: ((error: Error) => void)[] = [];
  const ready: { code: number; text: string }[] = [];
  let lines: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let end: number;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      lines.push(line.slice(4));
      if (line.charAt(3) !== '-') {
        const reply = { code: Number(line.slice(0, 3)), text: lines.join(' ') };
        lines = [];
        const next = waiting.shift();
        failures.shift();
        if (next) next(reply);
        else ready.push(reply);
      }
    }
  });
  socket.on('error', (error) => failures.splice(0).forEach((fail) => fail(error)));
  socket.on('close', () => failures.splice(0).forEach((fail) => fail(new Error('the relay closed the connection'))));
  return () =>
    ready.length
      ? Promise.resolve(ready.shift()!)
      : new Promise((resolve, reject) => {
          waiting.push(resolve);
          failures.push(reject);
        });
}
