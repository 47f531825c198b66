import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');
export const CACHE_DIR = join(REPO_ROOT, '.cache', 'test');
export const WORKFLOW_BUNDLE_PATH = join(CACHE_DIR, 'workflow-bundle.js');
export const HISTORY_FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'histories');
