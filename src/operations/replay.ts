/**
 * Replays correlation histories against workflow code with the SDK's replay worker: no server, no
 * task queue, only the code and the histories. Loads @temporalio/worker, so the CLI imports this
 * module only when it replays.
 */
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, type ReplayWorkerOptions, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { ENCODING } from '../codec';
import { WORKFLOWS_PATH } from '../temporal/worker';
import type { History } from './history';

/** The workflow code to replay against, and how to name it to the user. */
export interface WorkflowCode {
  options: ReplayWorkerOptions;
  description: string;
}

/**
 * The prebuilt bundle when one is configured (ORCH_WORKFLOW_BUNDLE), as the worker runs it; the
 * workflow sources otherwise. With the worker's data converter, so encrypted histories replay.
 */
export function workflowCode(bundlePath: string | undefined, dataConverter?: DataConverter): WorkflowCode {
  const converter = dataConverter ? { dataConverter } : {};
  return bundlePath
    ? {
        options: { workflowBundle: { codePath: bundlePath }, ...converter },
        description: `the workflow bundle ${bundlePath} (ORCH_WORKFLOW_BUNDLE)`,
      }
    : {
        options: { workflowsPath: WORKFLOWS_PATH, ...converter },
        description: `the workflow code in ${WORKFLOWS_PATH.replace(/[/\\]index\.js$/, '')}`,
      };
}

export interface ReplayItem {
  workflowId: string;
  /** Where the history came from, for the report: a run id or a file. */
  source: string;
  history: History;
}

export interface ReplayOutcome {
  workflowId: string;
  source: string;
  events: number;
  /** Absent when the history replayed. */
  error?: { kind: 'nondeterminism' | 'replay' | 'fetch'; message: string };
}

/** Said when a history's payloads are encrypted and the replay worker has no keys. */
const ENCRYPTED_HINT =
  'The history is encrypted: set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE to the keys the orchestrator encrypts with.';

let runtimeInstalled = false;

/**
 * The SDK's runtime, logging only errors: a replay worker's life cycle is not news to the user, and
 * the failed workflow task core warns about is reported, better, by the replay's outcome.
 */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Already installed by the host process (a test, say): keep its logger.
  }
}

/** Replays each history in turn on one replay worker (the code is bundled once) and yields each outcome. */
export async function* replayHistories(
  code: WorkflowCode,
  items: AsyncIterable<ReplayItem> | Iterable<ReplayItem>,
): AsyncGenerator<ReplayOutcome> {
  installQuietRuntime();
  const pending: ReplayItem[] = [];
  async function* feed() {
    for await (const item of items) {
      pending.push(item);
      yield { workflowId: item.workflowId, history: item.history };
    }
  }
  for await (const result of Worker.runReplayHistories(code.options, feed())) {
    const item = pending.shift()!;
    const outcome: ReplayOutcome = {
      workflowId: item.workflowId,
      source: item.source,
      events: item.history.events?.length ?? 0,
    };
    if (result.error) {
      outcome.error = {
        kind: result.error instanceof DeterminismViolationError ? 'nondeterminism' : 'replay',
        message: `${result.error.name}: ${essential(result.error.message)}${result.error.message.includes(`Unknown encoding: ${ENCODING}`) ? `\n${ENCRYPTED_HINT}` : ''}`,
      };
    }
    yield outcome;
  }
}

/**
 * Core's own words, without the Rust debug dump around them: `[TMPRL1100] Nondeterminism error:
 * Timer machine does not handle this event: …`, after the SDK's generic sentence.
 */
function essential(message: string): string {
  const core = /message: "((?:[^"\\]|\\.)*)"/.exec(message)?.[1];
  if (!core) return message;
  const generic = /^(.*?) Details: /s.exec(message)?.[1];
  return `${generic ? `${generic}\n` : ''}${core.replace(/\\"/g, '"')}`;
}
