import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from './logger';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** SMTP when a URL is configured; otherwise each message is written to the outbox folder and logged. */
export function createMailer(options: {
  smtpUrl?: string;
  outboxDir: string;
  from: string;
  log: Logger;
}): Mailer {
  const { smtpUrl, outboxDir, from, log } = options;
  if (smtpUrl) {
    const transport = nodemailer.createTransport(smtpUrl);
    return {
      async send(mail) {
        await transport.sendMail({ from, ...mail });
        log.info({ to: mail.to, title: mail.subject }, 'mail sent');
      },
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      const info = await transport.sendMail({ from, ...mail });
      await mkdir(outboxDir, { recursive: true });
      const base = path.join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}`);
      const file = `${base}.eml`;
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      // The plain text beside the raw message, so a developer can read (and grep) links as they are.
      await writeFile(`${base}.txt`, `To: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}\n`, {
        mode: 0o600,
      });
      log.info({ to: mail.to, title: mail.subject, file }, 'mail written to the outbox (no SMTP_URL)');
    },
  };
}
