import { SUBJECT_IDENTIFIERS, type Subject } from '../domain';
import { escapeHtml } from '../infra/html';
import type { Mail } from '../infra/mailer';
import type { OperatorNoticeInput, OwnerRequestInput } from './contracts';

function identifierLines(subject: Subject): string[] {
  const lines = SUBJECT_IDENTIFIERS.filter((key) => subject[key]).map((key) => `${key}: ${subject[key]}`);
  return subject.name ? [`name: ${subject.name}`, ...lines] : lines;
}

/** The first email to a system owner: what is asked, about whom, by when, and where to answer. */
export function ownerRequestMail(input: OwnerRequestInput, link: string): Mail {
  const { integration, phase, deadline, requestId } = input;
  const ask =
    phase === 'access'
      ? `find any personal data that ${integration.name} holds about the person below and upload it`
      : `delete the personal data that ${integration.name} holds about the person below`;
  const due = new Date(deadline).toUTCString();
  const identifiers = identifierLines(input.subject);
  const opening = input.reminder
    ? `A reminder: privacy request ${requestId} still waits for your answer. It asks you to ${ask}.`
    : `Privacy request ${requestId} asks you to ${ask}.`;
  const text = [
    `Hello ${integration.owner.name},`,
    '',
    opening,
    '',
    ...identifiers.map((line) => `  ${line}`),
    '',
    `Please answer by ${due}:`,
    link,
    '',
    'This link is personal to you and to this request.',
  ].join('\n');
  const html = [
    `<p>Hello ${escapeHtml(integration.owner.name)},</p>`,
    `<p>${escapeHtml(opening)}</p>`,
    `<ul>${identifiers.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`,
    `<p>Please answer by <strong>${escapeHtml(due)}</strong>: <a href="${escapeHtml(link)}">answer the request</a>.</p>`,
    '<p>This link is personal to you and to this request.</p>',
  ].join('\n');
  return {
    requestId,
    to: integration.owner.email,
    subject: `[Lethe] ${input.reminder ? 'Reminder: ' : ''}${phase === 'access' ? 'Data access' : 'Data deletion'} request ${requestId}: please answer by ${due}`,
    text,
    html,
  };
}

/** What operators are told, and what they can do about it. */
function operatorNotice(input: OperatorNoticeInput): { what: string; lines: string[] } {
  const actions = `POST /v1/requests/${input.requestId}/integrations/${input.integrationId}`;
  if (input.reason === 'disconnected') {
    const what = `Integration "${input.integrationName}" (${input.integrationId}) is disconnected`;
    return {
      what,
      lines: [
        `${what}: privacy request ${input.requestId} could not reach it in its ${input.phase} phase.`,
        '',
        'Review the integration\'s connection (its credentials, or its "disconnected" flag), then retry or stop',
        `it on the request: ${actions}/retry`,
      ],
    };
  }
  const what = `Privacy request ${input.requestId} is paused`;
  return {
    what,
    lines: [
      `${what}: the owner of "${input.integrationName}" (${input.integrationId}) did not answer its ${input.phase}`,
      'phase by the deadline.',
      '',
      'The owner can still answer through their link. Otherwise skip the integration and go on',
      `(${actions}/skip), or stop it (${actions}/stop).`,
    ],
  };
}

/** To the privacy operators: an integration needs a person before the request can go on. */
export function operatorNoticeMail(input: OperatorNoticeInput): Mail {
  const { what, lines } = operatorNotice(input);
  return {
    requestId: input.requestId,
    to: input.to,
    subject: `[Lethe] ${what}`,
    text: lines.join('\n'),
    html: lines
      .filter(Boolean)
      .map((line) => `<p>${escapeHtml(line)}</p>`)
      .join('\n'),
  };
}
