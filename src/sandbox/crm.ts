import express, { type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';

/**
 * A stand-in for a SaaS CRM that the generic HTTP connector talks to in `make dev` and the tests:
 * bearer auth, contacts looked up by email or phone, per-contact and bulk deletes, and faults an
 * operator (or a test) can inject to see Lethe's retries and errors.
 */
export interface CrmContact {
  id: string;
  email?: string;
  phone?: string;
  [field: string]: unknown;
}

export interface InjectedFault {
  /** Without a status, the call is only slowed down, then answered as usual. */
  status?: number;
  delay_ms?: number;
  /** How many matching calls answer with the fault. */
  times: number;
  method?: string;
  path?: string;
  retry_after?: string;
}

export interface CrmCall {
  method: string;
  path: string;
  status: number;
  at: string;
}

export interface SandboxCrm {
  app: express.Express;
  contacts: Map<string, CrmContact>;
  calls: CrmCall[];
  faults: InjectedFault[];
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

export function createSandboxCrm(options: { token: string; seed?: Omit<CrmContact, 'id'>[] }): SandboxCrm {
  const contacts = new Map<string, CrmContact>();
  const calls: CrmCall[] = [];
  const faults: InjectedFault[] = [];
  const add = (contact: Omit<CrmContact, 'id'>) => {
    const id = `c_${randomUUID().slice(0, 8)}`;
    contacts.set(id, { id, ...contact });
    return contacts.get(id) as CrmContact;
  };
  (options.seed ?? SANDBOX_CRM_SEED).forEach(add);

  const app = express();
  app.use(express.json());

  // Sandbox controls, unauthenticated: this service only ever listens on loopback.
  app.post(
    '/_sandbox/contacts',
    (req, res) => void res.status(201).json(add(req.body as Omit<CrmContact, 'id'>)),
  );
  app.post('/_sandbox/faults', (req, res) => {
    const fault = req.body as InjectedFault;
    faults.push({ ...fault, times: fault.times ?? 1 });
    res.status(201).json({ faults });
  });
  app.get('/_sandbox/calls', (_req, res) => void res.json({ calls }));
  app.post('/_sandbox/reset', (_req, res) => {
    calls.length = 0;
    faults.length = 0;
    res.status(204).end();
  });

  app.use((req, res, next) => {
    const authorized = () => {
      if (req.get('authorization') !== `Bearer ${options.token}`)
        res.status(401).json({ error: 'invalid token' });
      else next();
    };
    res.on('finish', () =>
      calls.push({
        method: req.method,
        path: req.path,
        status: res.statusCode,
        at: new Date().toISOString(),
      }),
    );
    const index = faults.findIndex(
      (f) => f.times > 0 && (!f.method || f.method === req.method) && (!f.path || f.path === req.path),
    );
    if (index >= 0) {
      const fault = faults[index] as InjectedFault;
      fault.times -= 1;
      if (fault.times === 0) faults.splice(index, 1);
      setTimeout(() => {
        if (fault.status === undefined) return authorized();
        if (fault.retry_after) res.set('Retry-After', fault.retry_after);
        res.status(fault.status).json({ error: `injected fault ${fault.status}` });
      }, fault.delay_ms ?? 0);
      return;
    }
    authorized();
  });

  const matching = (req: Request) => {
    const { email, phone } = req.query;
    if (typeof email !== 'string' && typeof phone !== 'string') return undefined;
    return [...contacts.values()].filter(
      (c) =>
        (typeof email === 'string' && c.email === email) || (typeof phone === 'string' && c.phone === phone),
    );
  };
  const badQuery = (res: Response) => res.status(400).json({ error: 'email or phone is required' });

  app.get('/contacts', (req, res) => {
    const found = matching(req);
    if (!found) return void badQuery(res);
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

  return { app, contacts, calls, faults };
}
