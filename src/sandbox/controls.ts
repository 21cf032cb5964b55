import express, { type NextFunction, type Request, type Response } from 'express';

/**
 * What every sandbox service shares: a record of the calls it answered, and faults an operator
 * (or a test) injects to see Lethe's retries and errors. The controls are unauthenticated: the
 * sandbox only ever listens on loopback.
 */
export interface InjectedFault {
  /** Without a status, the call is only slowed down, then answered as usual. */
  status?: number;
  delay_ms?: number;
  /** How many matching calls answer with the fault. */
  times: number;
  /** Matching calls answered as usual before the fault starts (a failure on the third page). */
  after?: number;
  method?: string;
  /** The call's path; one ending in `*` matches every path that starts with the rest. */
  path?: string;
  retry_after?: string;
  /** Cut the connection instead of answering (a reset, as a crashing server or proxy does). */
  reset?: boolean;
}

export interface SandboxCall {
  method: string;
  path: string;
  /** Path and query string. */
  url: string;
  /** 0: the client went away before the answer (it aborted the call). */
  status: number;
  at: string;
}

const pathMatches = (pattern: string | undefined, path: string) =>
  !pattern || (pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path);

export interface SandboxControls {
  calls: SandboxCall[];
  faults: InjectedFault[];
  /** A share of calls (0 to 1) that fail with a transient error before they are handled. */
  chaos: { rate: number };
  /** Records the call, then answers with a pending fault, or hands over to `authorized`. */
  intercept(authorized: (req: Request, res: Response, next: NextFunction) => void): express.RequestHandler;
}

/** What a struggling service answers now and then: a gateway error, a rate limit, a reset connection. */
function transientFailure(req: Request, res: Response): void {
  const pick = Math.floor(Math.random() * 5);
  if (pick === 0) return void req.socket.destroy();
  if (pick === 1) res.set('Retry-After', '1');
  res.status([429, 502, 503, 504][pick - 1] as number).json({ error: 'transient failure (sandbox chaos)' });
}

export function sandboxControls(app: express.Express): SandboxControls {
  const calls: SandboxCall[] = [];
  const faults: InjectedFault[] = [];
  const chaos = { rate: 0 };
  app.post('/_sandbox/chaos', express.json(), (req, res) => {
    const rate = Number((req.body as { rate?: unknown }).rate);
    if (!(rate >= 0 && rate <= 1)) return void res.status(400).json({ error: 'rate: a number from 0 to 1' });
    chaos.rate = rate;
    res.json(chaos);
  });
  app.post('/_sandbox/faults', express.json(), (req, res) => {
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

  return {
    calls,
    faults,
    chaos,
    intercept: (authorized) => (req, res, next) => {
      const record = (status: number) =>
        calls.push({
          method: req.method,
          path: req.path,
          url: req.originalUrl,
          status,
          at: new Date().toISOString(),
        });
      res.on('finish', () => record(res.statusCode));
      res.on('close', () => !res.writableFinished && record(0));
      if (Math.random() < chaos.rate) return transientFailure(req, res);
      const index = faults.findIndex(
        (f) => f.times > 0 && (!f.method || f.method === req.method) && pathMatches(f.path, req.path),
      );
      if (index < 0) return authorized(req, res, next);
      const fault = faults[index] as InjectedFault;
      if (fault.after) {
        fault.after -= 1;
        return authorized(req, res, next);
      }
      fault.times -= 1;
      if (fault.times === 0) faults.splice(index, 1);
      setTimeout(() => {
        if (res.destroyed) return;
        if (fault.reset) return void req.socket.destroy();
        if (fault.status === undefined) return authorized(req, res, next);
        if (fault.retry_after) res.set('Retry-After', fault.retry_after);
        res.status(fault.status).json({ error: `injected fault ${fault.status}` });
      }, fault.delay_ms ?? 0);
    },
  };
}
