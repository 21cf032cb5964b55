import { DELETION_ANSWER_TEXT, DELETION_ANSWERS, type Phase, type RequestType } from '../domain';
import { escapeHtml } from '../infra/html';

/**
 * The pages a system owner sees: plain server-rendered HTML that works without JavaScript, reads
 * well in a screen reader (labels, a fieldset for the answers, one heading per page) and
 * escapes everything it shows.
 */
export interface OwnerPageContext {
  requestId: string;
  requestType: RequestType;
  phase: Phase;
  integrationName: string;
  /** [label, value]: what the owner searches their system for. */
  identifiers: [string, string][];
  /** ISO 8601, or null once no deadline applies. */
  deadline: string | null;
  limits: { files: number; bytesPerFile: number };
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
h1{font-size:1.5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}
fieldset{border:1px solid #999;padding:1rem;margin:1rem 0}label{display:block;margin:.5rem 0}
button{font-size:1rem;padding:.5rem 1rem;margin-top:.5rem}.problem{border-left:4px solid #b00020;padding-left:1rem}
.done{border-left:4px solid #1b7f3b;padding-left:1rem}form+form{margin-top:1.5rem}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Lethe</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>`;
}

const megabytes = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;

function typeLabel(type: RequestType): string {
  switch (type) {
    case 'access':
      return 'Data access request';
    case 'access_categories':
      return 'Request to know which categories of data are held';
    case 'portability':
      return 'Data portability request';
    case 'deletion':
      return 'Data deletion request';
  }
}

function summary(ctx: OwnerPageContext): string {
  const rows = ctx.identifiers.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  const deadline = ctx.deadline
    ? `<p>Please answer by <strong><time datetime="${escapeHtml(ctx.deadline)}">${escapeHtml(new Date(ctx.deadline).toUTCString())}</time></strong>.</p>`
    : '';
  const ask =
    ctx.phase === 'access'
      ? `Search <strong>${escapeHtml(ctx.integrationName)}</strong> for personal data about this person, and upload what you find.`
      : `Delete the personal data that <strong>${escapeHtml(ctx.integrationName)}</strong> holds about this person, then tell us what happened.`;
  return `<h1>${escapeHtml(typeLabel(ctx.phase === 'deletion' ? 'deletion' : ctx.requestType))}</h1>
<p>Privacy request <code>${escapeHtml(ctx.requestId)}</code>. ${ask}</p>
<h2>The person</h2>
<dl>${rows}</dl>
${deadline}`;
}

function problemNote(error: string | undefined): string {
  return error ? `<p class="problem" role="alert">${escapeHtml(error)}</p>` : '';
}

function accessForms(ctx: OwnerPageContext): string {
  return `<form method="post" enctype="multipart/form-data">
<input type="hidden" name="answer" value="files">
<label for="files">Files with the data you hold: at most ${ctx.limits.files} files, ${megabytes(ctx.limits.bytesPerFile)} each</label>
<input id="files" name="files" type="file" multiple required>
<button type="submit">Send the files</button>
</form>
<form method="post">
<input type="hidden" name="answer" value="no_data">
<button type="submit">We hold no data about this person</button>
</form>`;
}

function deletionForm(): string {
  const options = DELETION_ANSWERS.map(
    (answer, i) =>
      `<label><input type="radio" name="answer" value="${answer}"${i === 0 ? ' required' : ''}> ${escapeHtml(DELETION_ANSWER_TEXT[answer])}</label>`,
  ).join('\n');
  return `<form method="post">
<fieldset><legend>What did you do?</legend>
${options}
</fieldset>
<button type="submit">Send the answer</button>
</form>`;
}

export function ownerFormPage(ctx: OwnerPageContext, error?: string): string {
  const title = typeLabel(ctx.phase === 'deletion' ? 'deletion' : ctx.requestType);
  const forms = ctx.phase === 'access' ? accessForms(ctx) : deletionForm();
  return page(title, `${summary(ctx)}\n${problemNote(error)}\n<h2>Your answer</h2>\n${forms}`);
}

export function ownerDonePage(ctx: OwnerPageContext, recorded: string): string {
  return page(
    'Thank you',
    `<h1>Thank you</h1>
<p class="done" role="status">Your answer to privacy request <code>${escapeHtml(ctx.requestId)}</code> for
<strong>${escapeHtml(ctx.integrationName)}</strong> was recorded: ${escapeHtml(recorded)}.</p>
<p>There is nothing more to do. You can close this page.</p>`,
  );
}

/** An expired, forged or used link, or a request that is gone: what happened and what to do. */
export function ownerProblemPage(title: string, message: string): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>\n<p class="problem" role="alert">${escapeHtml(message)}</p>`,
  );
}
