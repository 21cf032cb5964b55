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
  method?: string;
  path?: string;
  retry_after?: string;
  /** Cut the connection instead of answering (a reset, as a crashing server or proxy does). */
  reset?: boolean;
}

export interface SandboxCall {
  method: string;
  path: string;
  status: number;
  at: string;
}

export interface SandboxControls {
  calls: SandboxCall[];
  faults: InjectedFault[];
  /** Records the call, then answers with a pending fault, or hands over to `authorized`. */
  intercept(authorized: (req: Request, res: Response, next: NextFunction) => void): express.RequestHandler;
}

export function sandboxControls(app: express.Express): SandboxControls {
  const calls: SandboxCall[] = [];
  const faults: InjectedFault[] = [];
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
    intercept: (authorized) => (req, res, next) => {
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
      if (index < 0) return authorized(req, res, next);
      const fault = faults[index] as InjectedFault;
      fault.times -= 1;
      if (fault.times === 0) faults.splice(index, 1);
      setTimeout(() => {
        if (fault.reset) return void req.socket.destroy();
        if (fault.status === undefined) return authorized(req, res, next);
        if (fault.retry_after) res.set('Retry-After', fault.retry_after);
        res.status(fault.status).json({ error: `injected fault ${fault.status}` });
      }, fault.delay_ms ?? 0);
    },
  };
}
