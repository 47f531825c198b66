import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');
export const CACHE_DIR = join(REPO_ROOT, '.cache', 'test');
export const WORKFLOW_BUNDLE_PATH = join(CACHE_DIR, 'workflow-bundle.js');
export const HISTORY_FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'histories');
/**
 * Histories of the current shape, correlationWorkflowV5, and of the agents' circuit breaker
 * (breaker-*.json); v4/, v3/ and v2/ hold the earlier batched shapes', the folder above the first
 * shape's.
 */
export const CURRENT_HISTORY_FIXTURES_DIR = join(HISTORY_FIXTURES_DIR, 'v5');
