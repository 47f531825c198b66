/**
 * The search attributes correlations carry, held against one hand-written table
 * (test/fixtures/search-attributes.ts, from the docs) in every place that registers them or says
 * what they are: the workflow's keys, the registration script, the dev server's flags, the docs.
 * test/deploy/manifests.test.ts checks the deployment's copies (compose's namespace step, the
 * Kubernetes ConfigMap) and runs the script on a real server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SearchAttributeType } from '@temporalio/common';
import { startTemporalDevServer } from '../src/devstack/processes';
import { requireTool } from '../src/devstack/tools';
import { SEARCH_ATTRIBUTE_TYPES, SEARCH_ATTRIBUTES } from '../src/shared/search-attributes';
import {
  EXPECTED_SEARCH_ATTRIBUTES,
  registeredSearchAttributes,
  searchAttributesOfScript,
} from './fixtures/search-attributes';
import { REPO_ROOT } from './support/paths';

const read = (...path: string[]): string => readFileSync(join(REPO_ROOT, ...path), 'utf8');

/** The SDK's type for each CLI type name the table uses. */
const SDK_TYPES: Record<string, SearchAttributeType> = {
  Keyword: SearchAttributeType.KEYWORD,
  Bool: SearchAttributeType.BOOL,
  KeywordList: SearchAttributeType.KEYWORD_LIST,
};

describe('search attributes: every registration is the one table', () => {
  it('the keys the workflow sets (src/shared/search-attributes.ts), by name and SDK type', () => {
    expect(Object.fromEntries(Object.values(SEARCH_ATTRIBUTES).map((key) => [key.name, key.type]))).toEqual(
      Object.fromEntries(Object.entries(EXPECTED_SEARCH_ATTRIBUTES).map(([name, type]) => [name, SDK_TYPES[type]])),
    );
  });

  it('the CLI types src gives the dev server and the local stack (SEARCH_ATTRIBUTE_TYPES)', () => {
    expect(SEARCH_ATTRIBUTE_TYPES).toEqual(EXPECTED_SEARCH_ATTRIBUTES);
  });

  it('the registration script, deploy/temporal/setup-namespace.sh (compose, the Kubernetes Job, the cluster engine)', () => {
    expect(searchAttributesOfScript(read('deploy', 'temporal', 'setup-namespace.sh'))).toEqual(
      EXPECTED_SEARCH_ATTRIBUTES,
    );
  });

  it('the dev server, as the local stack and the tests start it (its --search-attribute flags)', async () => {
    const server = await startTemporalDevServer({ uiPort: false });
    try {
      expect(await registeredSearchAttributes(requireTool('temporal'), server.address)).toEqual(
        EXPECTED_SEARCH_ATTRIBUTES,
      );
    } finally {
      await server.stop();
    }
  });

  it("docs/PRODUCTION.md's table, and the README's list of names", () => {
    const section = /^## 3\. Search attributes$([\s\S]*?)^## /m.exec(read('docs', 'PRODUCTION.md'))?.[1] ?? '';
    const table = /^\| name \| type \|\n\|---\|---\|\n((?:\|.*\|\n)+)/m.exec(section)?.[1] ?? '';
    expect(
      Object.fromEntries(
        table
          .trim()
          .split('\n')
          .map((row) => row.split('|').map((cell) => cell.trim()))
          .map(([, name, type]) => [name, type]),
      ),
    ).toEqual(EXPECTED_SEARCH_ATTRIBUTES);

    const readmeItem = /^- \*\*Search attributes\*\*[\s\S]*?(?=^- )/m.exec(read('README.md'))?.[0] ?? '';
    const listed = /`temporal workflow\s+list --query`: ([\s\S]*?)\. For example/.exec(readmeItem)?.[1] ?? '';
    // Names in backquotes; the statuses in parentheses after CorrelationStatus are values, not names.
    const names = [...listed.replace(/\([^)]*\)/g, '').matchAll(/`(\w+)`/g)].map((m) => m[1]);
    expect(names.sort()).toEqual(Object.keys(EXPECTED_SEARCH_ATTRIBUTES).sort());
  });
});
