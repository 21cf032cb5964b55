import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { checkRequestId } from './blob-store';
import type { Logger } from './logger';

export interface Mail {
  /** The request it is about: the outbox keeps mail per request, so retention finds and deletes it. */
  requestId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  /** Whatever this mailer still keeps of a request's mail (its outbox folder): retention is over. */
  deleteRequest(requestId: string): Promise<void>;
}

/** SMTP when a URL is configured; otherwise each message is written to the request's folder of the outbox, and logged. */
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
      async send({ requestId, ...mail }) {
        await transport.sendMail({ from, ...mail });
        log.info({ requestId, to: mail.to, title: mail.subject }, 'mail sent');
      },
      // Sent mail is the receiving server's; nothing is kept here.
      async deleteRequest() {},
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const folderOf = (requestId: string) => path.join(outboxDir, checkRequestId(requestId));
  return {
    async send({ requestId, ...mail }) {
      const info = await transport.sendMail({ from, ...mail });
      const folder = folderOf(requestId);
      await mkdir(folder, { recursive: true });
      const base = path.join(folder, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}`);
      const file = `${base}.eml`;
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      // The plain text beside the raw message, so a developer can read (and grep) links as they are.
      await writeFile(`${base}.txt`, `To: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}\n`, {
        mode: 0o600,
      });
      log.info(
        { requestId, to: mail.to, title: mail.subject, file },
        'mail written to the outbox (no SMTP_URL)',
      );
    },
    async deleteRequest(requestId) {
      await rm(folderOf(requestId), { recursive: true, force: true });
    },
  };
}
