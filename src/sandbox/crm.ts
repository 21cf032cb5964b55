import express, { type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { sandboxControls, type InjectedFault, type SandboxCall } from './controls';

/**
 * A stand-in for a SaaS CRM that the generic HTTP connector talks to in `make dev` and the tests:
 * bearer, basic or API-key-header auth, contacts looked up by email or phone, per-contact and
 * bulk deletes, and injectable faults (see controls.ts).
 */
export interface CrmContact {
  id: string;
  email?: string;
  phone?: string;
  [field: string]: unknown;
}

export interface SandboxCrm {
  app: express.Express;
  contacts: Map<string, CrmContact>;
  calls: SandboxCall[];
  faults: InjectedFault[];
  chaos: { rate: number };
}

export const SANDBOX_CRM_SEED: Omit<CrmContact, 'id'>[] = [
  {
    email: 'jane.doe@example.com',
    phone: '+15550100',
    kind: 'contact',
    first_name: 'Jane',
    last_name: 'Doe',
  },
  { email: 'jane.doe@example.com', kind: 'support_ticket', subject: 'Password reset' },
  { email: 'jane.doe@example.com', kind: 'newsletter', list: 'monthly' },
  { email: 'sam.smith@example.com', kind: 'contact', first_name: 'Sam', last_name: 'Smith' },
];

/** Basic auth: this user name, the token as password. */
export const CRM_BASIC_USER = 'lethe';
/** Or the token alone, in this header. */
export const CRM_KEY_HEADER = 'X-Api-Key';

export function createSandboxCrm(options: { token: string; seed?: Omit<CrmContact, 'id'>[] }): SandboxCrm {
  const contacts = new Map<string, CrmContact>();
  const add = (contact: Omit<CrmContact, 'id'>) => {
    const id = `c_${randomUUID().slice(0, 8)}`;
    contacts.set(id, { id, ...contact });
    return contacts.get(id) as CrmContact;
  };
  (options.seed ?? SANDBOX_CRM_SEED).forEach(add);

  // The three ways SaaS APIs commonly take a key, so each auth type of the HTTP connector has a counterpart.
  const basic = `Basic ${Buffer.from(`${CRM_BASIC_USER}:${options.token}`).toString('base64')}`;
  const authorized = (req: Request) =>
    req.get('authorization') === `Bearer ${options.token}` ||
    req.get('authorization') === basic ||
    req.get(CRM_KEY_HEADER) === options.token;

  const app = express();
  app.use(express.json());

  // Sandbox controls, unauthenticated: this service only ever listens on loopback.
  app.post(
    '/_sandbox/contacts',
    (req, res) => void res.status(201).json(add(req.body as Omit<CrmContact, 'id'>)),
  );
  const { calls, faults, chaos, intercept } = sandboxControls(app);
  app.use(
    intercept((req, res, next) => {
      if (authorized(req)) next();
      else res.status(401).json({ error: 'invalid token' });
    }),
  );

  const matching = (req: Request) => {
    const { email, phone } = req.query;
    if (typeof email !== 'string' && typeof phone !== 'string') return undefined;
    return [...contacts.values()].filter(
      (c) =>
        (typeof email === 'string' && c.email === email) || (typeof phone === 'string' && c.phone === phone),
    );
  };
  const badQuery = (res: Response) => res.status(400).json({ error: 'email or phone is required' });

  // Paged like many SaaS APIs: ?page=&per_page= (from 1), or ?limit= with an opaque ?cursor=.
  app.get('/contacts', (req, res) => {
    const found = matching(req);
    if (!found) return void badQuery(res);
    const { page, per_page: perPage, cursor, limit } = req.query as Record<string, string | undefined>;
    if (perPage) {
      const size = Number(perPage);
      const start = (Number(page ?? 1) - 1) * size;
      return void res.json({ data: found.slice(start, start + size), total: found.length });
    }
    if (limit) {
      const start = cursor ? Number(Buffer.from(cursor, 'base64url').toString()) : 0;
      const end = start + Number(limit);
      const next = end < found.length ? Buffer.from(String(end)).toString('base64url') : null;
      return void res.json({ data: found.slice(start, end), paging: { next_cursor: next } });
    }
    res.json({ data: found, total: found.length });
  });
  app.delete('/contacts', (req, res) => {
    const found = matching(req);
    if (!found) return void badQuery(res);
    found.forEach((c) => contacts.delete(c.id));
    res.json({ deleted: found.length });
  });
  app.delete('/contacts/:id', (req, res) => {
    if (!contacts.delete(req.params.id)) return void res.status(404).json({ error: 'no such contact' });
    res.status(204).end();
  });
  app.use((_req, res) => void res.status(404).json({ error: 'not found' }));

  return { app, contacts, calls, faults, chaos };
}
