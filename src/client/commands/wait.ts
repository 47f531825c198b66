/** `orch wait <corr_id>`: waits for a correlation's decision (its workflow's result) and prints it. */
import { ApplicationFailure, type Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { OrchestrationDecision } from '../../contract/decision';
import { loadConnectionConfig } from '../../config';
import { workflowIdFor } from '../../shared/correlation-api';
import { formatDuration, parseDuration } from '../../shared/duration';
import { CliError, type Command, errorMessage, openTemporal, parseCommandLine, UsageError } from './common';
import { corrIdArgument, notFound } from './state';

const NAME = 'wait';
const DEFAULT_WAIT_TIMEOUT = '60s';

const waitUsage = `
Usage: orch wait <corr_id> [--timeout <duration>]

Waits until the correlation has decided, then prints its decision as JSON: the result of its
workflow corr-<corr_id>, the same decision it published on orchestrated.decision. Returns at once
for a correlation already decided.

Options:
  --timeout <duration>   how long to wait, such as 500ms, 30s, 2m or 1h (default: ${DEFAULT_WAIT_TIMEOUT})
  -h, --help             this help

Exit codes: 0 decided; 1 still undecided at the timeout, no such correlation, or its workflow
failed (the failure is printed); 2 bad usage.

Examples:
  orch wait evt-42
  orch wait evt-42 --timeout 6m | jq .decision
`;

/** One line per error in the cause chain: `ApplicationFailure [InvalidPolicy]: invalid policy: …`. */
function describeFailure(error: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (current instanceof Error) {
      const type = current instanceof ApplicationFailure && current.type ? ` [${current.type}]` : '';
      lines.push(`${current.name}${type}: ${current.message}`);
      current = current.cause;
    } else {
      lines.push(String(current));
      break;
    }
  }
  return lines;
}

/** The correlation's decision, or a CliError: not found, failed, or still undecided after `timeoutMs`. */
async function waitForDecision(client: Client, corrId: string, timeoutMs: number): Promise<OrchestrationDecision> {
  const handle = client.workflow.getHandle(workflowIdFor(corrId));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return (await client.withAbortSignal(controller.signal, () => handle.result())) as OrchestrationDecision;
  } catch (error) {
    if (controller.signal.aborted) {
      throw new CliError(
        `no decision for correlation ${JSON.stringify(corrId)} after ${formatDuration(timeoutMs)}: it is still running. ` +
          `\`orch state ${corrId}\` shows what it is waiting for.`,
      );
    }
    if (error instanceof WorkflowNotFoundError) throw notFound(corrId, client.options.namespace);
    if (error instanceof WorkflowFailedError) {
      const [, ...causes] = describeFailure(error);
      throw new CliError(
        [
          `correlation ${JSON.stringify(corrId)} has no decision: workflow ${workflowIdFor(corrId)} failed: ${error.message}`,
          ...causes.map((line) => `  caused by ${line}`),
        ].join('\n'),
      );
    }
    throw new CliError(`waiting for correlation ${JSON.stringify(corrId)} failed: ${errorMessage(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

export const waitCommand: Command = {
  name: NAME,
  summary: "wait for a correlation's decision and print it as JSON",
  usage: waitUsage,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(NAME, {
      args: argv,
      options: { timeout: { type: 'string', default: DEFAULT_WAIT_TIMEOUT } },
      allowPositionals: true,
    });
    const corrId = corrIdArgument(NAME, positionals);
    let timeoutMs: number;
    try {
      timeoutMs = parseDuration(values.timeout);
    } catch (error) {
      throw new UsageError(NAME, `--timeout: ${errorMessage(error)}`);
    }
    if (timeoutMs <= 0) throw new UsageError(NAME, '--timeout must be more than 0');
    const client = await openTemporal(loadConnectionConfig(ctx.env));
    try {
      ctx.out(JSON.stringify(await waitForDecision(client, corrId, timeoutMs), null, 2));
    } finally {
      await client.connection.close();
    }
  },
};
