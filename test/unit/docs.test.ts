import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ENVIRONMENT_VARIABLES } from '../../src/config/environment';

const ROOT = path.resolve(__dirname, '../..');
const DOCS = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Prose only: a link written inside a code block or a code span is an example, not a link. */
const withoutCode = (markdown: string) =>
  markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const anchorsIn = (markdown: string) =>
  new Set(
    [...markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1]!)),
  );

/** Inline links and reference definitions whose target is a path in the repository. */
function relativeLinks(markdown: string): string[] {
  const prose = withoutCode(markdown);
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const references = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
  return [...inline, ...references].filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('the documentation: every relative link points at a file that exists', () => {
  for (const file of DOCS) {
    it(file, () => {
      const broken: string[] = [];
      for (const link of relativeLinks(read(file))) {
        const [target = '', anchor] = link.split('#');
        const resolved =
          target === '' ? path.join(ROOT, file) : path.resolve(ROOT, path.dirname(file), target);
        if (!existsSync(resolved)) {
          broken.push(`${link}: no such file`);
        } else if (anchor && statSync(resolved).isFile() && resolved.endsWith('.md')) {
          if (!anchorsIn(readFileSync(resolved, 'utf8')).has(anchor)) broken.push(`${link}: no such heading`);
        }
      }
      assert.deepEqual(broken, []);
    });
  }

  it('finds the links there are (the README links each document in docs/)', () => {
    const readmeLinks = new Set(relativeLinks(read('README.md')).map((link) => link.split('#')[0]));
    for (const doc of DOCS.filter((name) => name !== 'README.md')) assert.ok(readmeLinks.has(doc), doc);
  });

  it('sees a broken link and a missing heading as broken', () => {
    assert.deepEqual(relativeLinks('[a](docs/none.md) [b](https://example.com) `[c](x.md)` [d](#top)'), [
      'docs/none.md',
      '#top',
    ]);
    assert.ok(anchorsIn('## Deploying new workflow code').has('deploying-new-workflow-code'));
    assert.ok(
      anchorsIn('## Cancelled, reset or terminated in Temporal').has(
        'cancelled-reset-or-terminated-in-temporal',
      ),
    );
  });
});

describe('docs/configuration.md: the environment table names the schema, no more, no less', () => {
  /** The variables in the first column of the table right under "## Environment". */
  function documentedVariables(markdown: string): string[] {
    const section = markdown.split(/^## Environment$/m)[1] ?? '';
    const beforeNextHeading = section.split(/^#/m)[0] ?? '';
    return beforeNextHeading
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) => line.split('|')[1]!.trim())
      .flatMap((cell) => [...cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
  }

  const documented = documentedVariables(read('docs/configuration.md'));
  const schema = ENVIRONMENT_VARIABLES;

  it('documents every variable of the schema', () => {
    assert.deepEqual(
      schema.filter((name) => !documented.includes(name)),
      [],
    );
  });

  it('documents no variable the schema does not have', () => {
    assert.deepEqual(
      documented.filter((name) => !schema.includes(name)),
      [],
    );
  });

  it('documents each variable once', () => {
    assert.deepEqual(
      documented.filter((name, i) => documented.indexOf(name) !== i),
      [],
    );
  });
});
