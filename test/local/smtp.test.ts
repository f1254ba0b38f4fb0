/** Local mode's SMTP relay client against a relay on loopback that refuses, and one that is not there. */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { DeliveryError } from '../../core/notification/errors';
import { sendThroughRelay } from '../../local/smtp';

/** A relay that answers each command from `answers` (by its verb), 250 otherwise. */
async function relay(answers: Record<string, string>): Promise<{ server: Server; url: string }> {
  const server = createServer((socket) => {
    socket.write('220 ready\r\n');
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const verb = buffer.slice(0, end).split(/[ :]/)[0]!;
        buffer = buffer.slice(end + 2);
        socket.write(`${answers[verb] ?? (verb === 'DATA' ? '354 go' : '250 ok')}\r\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const message = { from: 'ci@example.com', to: ['nobody@example.com'], data: 'Subject: x\r\n\r\nhello\r\n' };

describe('SMTP relay client', () => {
  it('names the refused step: a permanent refusal is not retried, a temporary one is', async () => {
    const permanent = await relay({ RCPT: '550 5.1.1 no such user' });
    const temporary = await relay({ MAIL: '451 4.3.0 try later' });
    try {
      const refused = await sendThroughRelay(permanent.url, message).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DeliveryError);
      expect(refused).toMatchObject({
        message: 'the SMTP relay refused RCPT: 550 5.1.1 no such user',
        retryable: false,
      });
      await expect(sendThroughRelay(temporary.url, message)).rejects.toMatchObject({
        message: 'the SMTP relay refused MAIL: 451 4.3.0 try later',
        retryable: true,
      });
    } finally {
      permanent.server.close();
      temporary.server.close();
    }
  });

  it('says so when no relay listens, and refuses a URL that is not smtp://', async () => {
    const { server, url } = await relay({});
    server.close();
    await new Promise((resolve) => server.once('close', resolve));
    await expect(sendThroughRelay(url, message)).rejects.toMatchObject({ retryable: true });
    await expect(sendThroughRelay('http://127.0.0.1:25', message)).rejects.toThrow(
      'the SMTP relay must be smtp://host:port, got http://127.0.0.1:25',
    );
  });
});
