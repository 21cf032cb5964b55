import assert from 'node:assert/strict';
import type express from 'express';
import { createApp } from '../../src/api/app';
import { API_ERRORS } from '../../src/api/errors';
import { openApiPath } from '../../src/api/openapi';
import { call } from '../support/http';
import { useStack } from '../support/lethe';

interface JsonSchema {
  enum?: string[];
  properties?: Record<string, JsonSchema>;
}

interface Layer {
  rawPath?: string | string[];
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** Every `METHOD path` the app serves, read from its routers (each router's mount path prefixed). */
function servedRoutes(app: express.Express): string[] {
  const walk = (layers: Layer[], prefix: string): string[] =>
    layers.flatMap((layer) => {
      if (layer.route) {
        return Object.keys(layer.route.methods).map((method) => `${method} ${prefix}${layer.route!.path}`);
      }
      if (!layer.handle.stack) return [];
      const mounts = [layer.rawPath ?? '/'].flat().map((mount) => (mount === '/' ? '' : mount));
      return mounts.flatMap((mount) => walk(layer.handle.stack!, `${prefix}${mount}`));
    });
  return [...new Set(walk((app as unknown as { router: { stack: Layer[] } }).router.stack, ''))];
}

describe('GET /openapi.json: the API described from the schemas its routes validate with', function () {
  this.timeout(30_000);
  const suite = useStack();
  type Operation = { responses: Record<string, { description: string }>; parameters: { name: string }[] };
  let document: { openapi: string; paths: Record<string, Record<string, Operation>> };

  before(async () => {
    const res = await call(suite.stack.apiUrl, 'GET', '/openapi.json', { key: null });
    assert.equal(res.status, 200);
    document = res.body;
  });

  it('is OpenAPI 3.1, without an API key', () => {
    assert.equal(document.openapi, '3.1.0');
  });

  it('describes every route the app serves, and no route it does not', () => {
    const served = servedRoutes(createApp(suite.stack.apiDependencies)).map((route) => {
      const [method, path] = route.split(' ') as [string, string];
      return `${method} ${openApiPath(path)}`;
    });
    const described = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method} ${path}`),
    );
    assert.ok(served.length >= 16, `routes found in the app: ${served.join(', ')}`);
    assert.deepEqual([...described].sort(), [...served].sort());
  });

  it('names every error of the contract, with its code, on the routes that answer it', () => {
    const descriptions = Object.values(document.paths)
      .flatMap((operations) => Object.values(operations))
      .flatMap((operation) => Object.entries(operation.responses));
    for (const [name, { http, code }] of Object.entries(API_ERRORS)) {
      assert.ok(
        descriptions.some(
          ([status, r]) => status === String(http) && r.description.includes(`${name} (${code})`),
        ),
        `${name} (${code}) under HTTP ${http}`,
      );
    }
    const create = document.paths['/v1/requests']!.post!;
    assert.match(create.responses['415']!.description, /application\/json/);
    assert.deepEqual(
      document.paths['/v1/requests']!.get!.parameters.map((p) => p.name),
      ['status', 'type', 'state', 'limit', 'page_token'],
    );
  });

  it('takes its bodies from the route schemas: a create request’s types and identifiers', () => {
    const body = (
      document.paths['/v1/requests']!.post as unknown as {
        requestBody: {
          content: { 'application/json': { schema: { properties: Record<string, JsonSchema> } } };
        };
      }
    ).requestBody.content['application/json'].schema;
    assert.deepEqual(body.properties.type!.enum, ['access', 'access_categories', 'portability', 'deletion']);
    assert.deepEqual(Object.keys(body.properties.subject!.properties!), [
      'email',
      'phone',
      'custom_id',
      'advertising_id',
      'name',
    ]);
  });
});
