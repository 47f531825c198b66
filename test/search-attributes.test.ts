import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTE_TYPES } from '../src/shared/search-attributes';
import { REPO_ROOT } from './support/paths';

it('registers exactly the search attributes the workflow sets, with their types', () => {
  const script = readFileSync(join(REPO_ROOT, 'deploy', 'temporal', 'setup-namespace.sh'), 'utf8');
  const block = /SEARCH_ATTRIBUTES=\(\n([\s\S]*?)\n\)/.exec(script)?.[1] ?? '';
  const registered = Object.fromEntries(
    block
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/)),
  );
  expect(registered).toEqual(SEARCH_ATTRIBUTE_TYPES);
  expect(Object.keys(SEARCH_ATTRIBUTE_TYPES)).toHaveLength(8);
});
