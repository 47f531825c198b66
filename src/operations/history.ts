/**
 * A workflow's history: fetched from Temporal, or read from and written to the JSON file that
 * `temporal workflow show -o json` writes. What a correlation's history says is read by
 * `recorded-correlation.ts`.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Client, isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { decodeHistory } from '../codec';

export type History = temporal.api.history.v1.IHistory;

/** gRPC NOT_FOUND. */
const NOT_FOUND = 5;

/** No such workflow (or run): the caller says what it was looking for. */
export class HistoryNotFoundError extends Error {
  override readonly name = 'HistoryNotFoundError';
}

/** The whole history of a run (the latest run of the workflow id when `runId` is not given). */
export async function fetchHistory(client: Client, workflowId: string, runId?: string): Promise<History> {
  try {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    if (!history.events?.length)
      throw new HistoryNotFoundError(`workflow ${workflowId}${runId ? ` run ${runId}` : ''} has no history`);
    return history;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === NOT_FOUND)) {
      throw new HistoryNotFoundError(
        `workflow ${workflowId}${runId ? ` run ${runId}` : ''} does not exist in namespace ${client.options.namespace}`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The history with its payloads decoded through the client's payload codecs (encryption, when on):
 * what the workflow saw, for reading its input and signals. `fetchHistory` gives them as stored.
 */
export async function fetchDecodedHistory(client: Client, workflowId: string, runId?: string): Promise<History> {
  return decodeHistory(await fetchHistory(client, workflowId, runId), client.options.loadedDataConverter.payloadCodecs);
}

/** A history file is unreadable or is not a history; the message names the file. */
export class HistoryFileError extends Error {
  override readonly name = 'HistoryFileError';
}

/** Reads a history exported by `orch replay --export`, `temporal workflow show -o json` or the UI. */
export function readHistoryFile(path: string): History {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new HistoryFileError(`cannot read history file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const events = (parsed as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new HistoryFileError(
      `${path} is not a workflow history: expected a JSON object {"events": [...]} as \`temporal workflow show -o json\` writes`,
    );
  }
  try {
    return historyFromJSON(parsed);
  } catch (error) {
    throw new HistoryFileError(`${path} is not a valid workflow history: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Writes a history in the JSON form every Temporal tool reads (and `readHistoryFile`). */
export function writeHistoryFile(path: string, history: History): void {
  writeFileSync(path, `${historyToJSON(history)}\n`);
}

/** The workflow id the history records (servers ≥ 1.27 write it in the started event), if any. */
export function historyWorkflowId(history: History): string | undefined {
  const attributes = history.events?.[0]?.workflowExecutionStartedEventAttributes as
    { workflowId?: string | null } | undefined | null;
  return attributes?.workflowId || undefined;
}

/** The workflow type the history records. */
export function historyWorkflowType(history: History): string | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? undefined;
}

/** The history files a path names: the file itself, or a folder's `*.json` files (not recursive), sorted. */
export function historyFiles(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (error) {
    throw new HistoryFileError(`cannot read history ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!isDir) return [path];
  const files = readdirSync(path)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(path, name))
    .filter((file) => statSync(file).isFile());
  if (files.length === 0) throw new HistoryFileError(`no history files (*.json) in ${path}`);
  return files;
}
