import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/** What reached a server: enough to tell whether a secret or the subject left for the wrong host. */
export interface SeenCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The data a hostile service echoes back in its error answers: what the call log must not keep. */
export const ECHOED = {
  name: 'JANE DOE',
  address: '12 Rue de la Paix, 75002 Paris',
  phone: '+33 6 12 34 56 78',
};

const MB = 1024 * 1024;

/** What `/many-pages` holds about anyone: 200 MB of records over 200 pages. */
export const MANY_PAGES = { pages: 200, perPage: 100, recordBytes: 10_000 };

/**
 * A zip whose entries are `entries` runs of `entryMb` MB of zeros, each deflated once (a few
 * hundred KB). `declaredBytes` is what the headers claim each entry inflates to: the truth, or a
 * lie a reader that trusts the central directory would believe.
 */
export async function zipBomb(entries: number, entryMb: number, declaredBytes?: number): Promise<Buffer> {
  const zeros = Buffer.alloc(MB);
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  let crc = 0;
  for (let i = 0; i < entryMb; i++) {
    crc = zlib.crc32(zeros, crc);
    if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  const data = Buffer.concat(chunks);
  const size = declaredBytes ?? entryMb * MB;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < entries; i++) {
    const name = Buffer.from(`part-${i}.json`);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bodyOf(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * A third party that does what a well-behaved one never would, on 127.0.0.1, by the first path
 * segment: redirects (302, 307) to a second server that records whatever reaches it, answers
 * huge bodies (as records, or as a Batch review), pages without end (200 MB of records), serves zip bombs as a Batch review, names a foreign `data_url`, echoes the
 * subject's data in its errors, and records the paths it is asked for.
 */
export class HostileService {
  url = '';
  /** The host a redirect or a foreign data_url points at: nothing should ever reach it. */
  elsewhereUrl = '';
  readonly seen: SeenCall[] = [];
  readonly reachedElsewhere: SeenCall[] = [];
  /** Served as a Batch review by `/batch-bomb` and `/batch-liar`; set by the test that needs one. */
  bombs: { honest?: Buffer; liar?: Buffer } = {};
  private readonly servers: http.Server[] = [];

  async start(): Promise<void> {
    const elsewhere = http.createServer((req, res) => {
      void bodyOf(req).then((body) => {
        this.reachedElsewhere.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
        });
        json(res, 200, { request_id: 'stolen', data: [{ stolen: true }] });
      });
    });
    const hostile = http.createServer((req, res) => {
      void bodyOf(req).then((body) => {
        this.seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        this.answer(req, res);
      });
    });
    this.servers.push(elsewhere, hostile);
    this.elsewhereUrl = await listen(elsewhere);
    this.url = await listen(hostile);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const [scenario = '', ...rest] = url.pathname.split('/').filter(Boolean);
    const tail = rest.join('/');
    switch (scenario) {
      case 'redirect-302':
      case 'redirect-307':
        res.writeHead(scenario === 'redirect-302' ? 302 : 307, {
          Location: `${this.elsewhereUrl}/${tail}${url.search}`,
        });
        res.end();
        return;
      case 'huge': {
        // A valid JSON list of records, 40 MB of it (more than the default cap), sent in pieces.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"data":[');
        const record = JSON.stringify({ blob: 'x'.repeat(MB - 20) });
        for (let i = 0; i < 40; i++) res.write(i === 0 ? record : `,${record}`);
        res.end(']}');
        return;
      }
      case 'many-pages': {
        // Page-numbered (`page`, from 1, `per_page`): a service that holds far more than fits in memory twice.
        const page = Number(url.searchParams.get('page'));
        const size = Number(url.searchParams.get('per_page'));
        const first = (page - 1) * size;
        const count =
          page <= MANY_PAGES.pages ? Math.min(size, MANY_PAGES.pages * MANY_PAGES.perPage - first) : 0;
        const notes = 'x'.repeat(MANY_PAGES.recordBytes);
        json(res, 200, { data: Array.from({ length: count }, (_, i) => ({ seq: first + i, notes })) });
        return;
      }
      case 'echo-json':
        json(res, 400, {
          error: { code: 'INVALID_USER', message: `no such user: ${url.searchParams.get('email') ?? ''}` },
          user: { email: url.searchParams.get('email'), ...ECHOED },
        });
        return;
      case 'echo-text':
        res
          .writeHead(500, { 'Content-Type': 'text/plain' })
          .end(
            `Internal error for ${url.searchParams.get('email') ?? ''} (${ECHOED.name.toLowerCase()}, tel ${ECHOED.phone})`,
          );
        return;
      case 'paths':
        if (req.method === 'GET') json(res, 200, { data: [{ id: '..' }] });
        else json(res, 200, {});
        return;
      default:
        if (scenario.startsWith('batch-')) return this.batch(scenario, req, res, url);
        json(res, 404, { error: 'no such scenario' });
    }
  }

  /** Batch's GDPR API, as far as creating a request, polling it, and downloading its zip. */
  private batch(scenario: string, req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const prefix = `${this.url}/${scenario}`;
    if (req.method === 'POST' && url.pathname.endsWith('/gdpr/request')) {
      if (scenario === 'batch-redirect') {
        res.writeHead(307, { Location: `${this.elsewhereUrl}${url.pathname}` }).end();
        return;
      }
      json(res, 201, { request_id: 'job-1' });
      return;
    }
    if (url.pathname.endsWith('/gdpr/request/job-1')) {
      const dataUrl =
        scenario === 'batch-foreign' ? `${this.elsewhereUrl}/review.zip` : `${prefix}/results/review.zip`;
      json(res, 200, { status: 'done', data_url: dataUrl });
      return;
    }
    if (url.pathname.endsWith('/results/review.zip') && scenario === 'batch-huge') {
      res.writeHead(200, { 'Content-Type': 'application/zip' });
      const zeros = Buffer.alloc(MB);
      for (let i = 0; i < 40; i++) res.write(zeros);
      res.end();
      return;
    }
    const bomb = scenario === 'batch-liar' ? this.bombs.liar : this.bombs.honest;
    if (url.pathname.endsWith('/results/review.zip') && bomb) {
      res.writeHead(200, { 'Content-Type': 'application/zip' }).end(bomb);
      return;
    }
    json(res, 404, { error_code: 20, error: 'ROUTE_NOT_FOUND' });
  }

  async stop(): Promise<void> {
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
