/**
 * The recorded correlations a what-if compares, read from Temporal or from exported history files:
 * listing and reading only.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { decodeHistory } from '../../codec';
import type { History } from '../history';
import { fetchDecodedHistory, readHistoryFile } from '../history';
import { mapConcurrent } from '../progress';
import {
  type DecidedSignals,
  decidedSignals,
  type RecordedCorrelation,
  RecordedCorrelationError,
  readRecordedCorrelation,
} from '../recorded-correlation';
import type { Skipped } from './compare';

/** Histories read from Temporal at once. */
const HISTORY_CONCURRENCY = 8;

/** A recorded correlation with the signals its decision was made on. */
export type RecoveredCorrelation = RecordedCorrelation & DecidedSignals;

/** Reads a correlation and the signals it decided on from its (decoded) history; see `readRecordedCorrelation`. */
export function recoverCorrelation(history: History, where: string, runId?: string): RecoveredCorrelation {
  const recorded = readRecordedCorrelation(history, where, runId);
  return { ...recorded, ...decidedSignals(recorded) };
}

/**
 * Reads exported histories, their payloads decoded through `codecs` (an export of an encrypted
 * history is encrypted). Throws `HistoryFileError`, `RecordedCorrelationError` or the codec's error,
 * each naming the file.
 */
export async function recoverFromFiles(
  files: readonly string[],
  codecs: readonly PayloadCodec[],
): Promise<RecoveredCorrelation[]> {
  const recovered: RecoveredCorrelation[] = [];
  for (const file of files)
    recovered.push(recoverCorrelation(await decodeHistory(readHistoryFile(file), codecs), file));
  return recovered;
}

/**
 * Reads the histories of listed executions. A history that is not a readable correlation is
 * skipped with its reason; any other failure (Temporal, a codec) rejects.
 */
export async function recoverFromTemporal(
  client: Client,
  executions: readonly WorkflowExecutionInfo[],
): Promise<{ recovered: RecoveredCorrelation[]; skipped: Skipped[] }> {
  const skipped: Skipped[] = [];
  const recovered = await mapConcurrent(executions, HISTORY_CONCURRENCY, async ({ workflowId, runId }) => {
    const where = `${workflowId} (run ${runId})`;
    try {
      return recoverCorrelation(await fetchDecodedHistory(client, workflowId, runId), where, runId);
    } catch (error) {
      if (!(error instanceof RecordedCorrelationError))
        throw new Error(`reading the history of ${where} failed: ${(error as Error).message}`, { cause: error });
      skipped.push({ workflow_id: workflowId, run_id: runId, reason: `unreadable history: ${error.message}` });
      return undefined;
    }
  });
  return { recovered: recovered.filter((r): r is RecoveredCorrelation => r !== undefined), skipped };
}
