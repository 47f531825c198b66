/** `orch publish`: one agent signal onto JetStream, exactly as an agent would publish it. */
import { readFileSync } from 'node:fs';
import { ErrorCode, type PubAck } from 'nats';
import { type AgentSignal, agentSignalSchema } from '../../contract/agent-signal';
import { ValidationError } from '../../contract/errors';
import { loadConnectionConfig } from '../../config';
import { SIGNALS_STREAM, signalSubject } from '../../nats/streams';
import {
  CliError,
  type Command,
  type CommandContext,
  errorMessage,
  openNats,
  parseCommandLine,
  UsageError,
} from './common';

/** How long to wait for JetStream's ack of the publish. */
const PUBLISH_ACK_TIMEOUT_MS = 5_000;

const NAME = 'publish';

const publishUsage = `
Usage: orch publish --agent <name> --corr-id <id> --analysis '<json object>' [options]
       orch publish --file <path | -> [options]

Publishes one agent signal to NATS JetStream on signals.enriched.<agent_name>, as an agent would,
and prints the stream and sequence JetStream stored it under. The signal is checked against the
agent signal contract (schemas/agent_signal.schema.json) first: a bad signal is refused, naming
the bad field, and nothing is published (exit 2).

The SIGNALS stream that captures these subjects is created by the bridge when it starts; until
then there is nothing to publish to, and orch publish says so (exit 1).

Options:
  --agent <name>           agent_name, and the subject's last token (e.g. momentum, risk)
  --corr-id <id>           corr_id: the correlation the signal belongs to
  --analysis <json>        the analysis object, e.g. '{"trend_direction":"bullish","confidence":0.8}'
  --instrument <symbol>    source_signal.instrument, e.g. BTC/USD or EURUSD
  --agent-version <x>      agent_version
                           (enriched_at is now and schema_version 1.0.0)
  --file <path>            a whole agent signal as a JSON file; - reads it from stdin. Published
                           byte for byte. With --agent, agent_name must match it.
  --msg-id <id>            the Nats-Msg-Id header: JetStream stores a second publish with the same
                           id (within its duplicate window) only once
  --allow-invalid          with --file: publish the file's bytes without checking them, to
                           exercise the dead-letter queue. The subject's agent is --agent, or the
                           file's agent_name.
  -h, --help               this help

Examples:
  orch publish --agent momentum --corr-id evt-42 --instrument BTC/USD \\
    --analysis '{"trend_direction":"bullish","momentum_strength":0.78,"confidence":0.85}'
  orch publish --file risk-signal.json --msg-id risk-evt-42
  echo '{"agent_name":"risk","corr_id":"evt-42","analysis":{"risk_level":"loud"}}' | \\
    orch publish --file - --allow-invalid
`;

export interface PublishOptions {
  agent?: string;
  corrId?: string;
  analysis?: string;
  instrument?: string;
  agentVersion?: string;
  file?: string;
  msgId?: string;
  allowInvalid?: boolean;
}

/** What goes on the wire. */
export interface PublishRequest {
  subject: string;
  payload: Uint8Array;
  msgId?: string;
  /** False only for --allow-invalid input that is not a valid signal. */
  validated: boolean;
}

/** A subject token NATS accepts: no whitespace, dots or wildcards. */
const SUBJECT_TOKEN = /^[^\s.*>]+$/;

/** Validates a signal against the contract; the CliError names every bad field. */
function validateSignal(input: unknown, where: string): AgentSignal {
  const result = agentSignalSchema.safeParse(input);
  if (!result.success) throw new CliError(`${new ValidationError('agent signal', result.error).message} (${where})`, 2);
  return result.data;
}

/** The signal the flags describe, stamped now, as an agent would send it. */
function signalFromFlags(options: PublishOptions, now: Date): Record<string, unknown> {
  const missing = (['agent', 'corrId', 'analysis'] as const).filter((key) => options[key] === undefined);
  if (missing.length > 0) {
    const flags = missing.map((key) => `--${key === 'corrId' ? 'corr-id' : key}`);
    throw new UsageError(NAME, `missing ${flags.join(', ')} (or give the whole signal with --file)`);
  }
  let analysis: unknown;
  try {
    analysis = JSON.parse(options.analysis!);
  } catch (error) {
    throw new CliError(`--analysis is not valid JSON: ${errorMessage(error)}`, 2, { cause: error });
  }
  return {
    schema_version: '1.0.0',
    agent_name: options.agent,
    ...(options.agentVersion !== undefined ? { agent_version: options.agentVersion } : {}),
    corr_id: options.corrId,
    enriched_at: now.toISOString(),
    ...(options.instrument !== undefined ? { source_signal: { instrument: options.instrument } } : {}),
    analysis,
  };
}

/**
 * Turns the options (and the file's bytes, for --file) into the message to publish, or refuses:
 * a usage error or a bad signal throws a CliError with exit code 2.
 */
function preparePublish(options: PublishOptions, fileBytes: Buffer | undefined, now: Date): PublishRequest {
  if (options.msgId !== undefined && options.msgId.trim() === '')
    throw new UsageError(NAME, '--msg-id must not be empty');
  const msgId = options.msgId;

  if (options.file === undefined) {
    if (options.allowInvalid) throw new UsageError(NAME, '--allow-invalid needs --file: it publishes a file as it is');
    const raw = signalFromFlags(options, now);
    const signal = validateSignal(raw, 'from the flags');
    return {
      subject: signalSubject(signal.agent_name),
      payload: Buffer.from(JSON.stringify(raw)),
      msgId,
      validated: true,
    };
  }

  const conflicting = (['corrId', 'analysis', 'instrument', 'agentVersion'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (conflicting.length > 0) {
    const flags = conflicting.map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new UsageError(NAME, `--file gives the whole signal; it cannot be combined with ${flags.join(', ')}`);
  }
  if (fileBytes === undefined) throw new Error('preparePublish: --file given without its bytes');
  const where = options.file === '-' ? 'stdin' : options.file;

  let parsed: unknown;
  let parseError: string | undefined;
  try {
    parsed = JSON.parse(fileBytes.toString('utf8'));
  } catch (error) {
    parseError = errorMessage(error);
  }

  if (options.allowInvalid) {
    const fileAgent = (parsed as { agent_name?: unknown } | undefined)?.agent_name;
    const agent = options.agent ?? (typeof fileAgent === 'string' ? fileAgent : undefined);
    if (agent === undefined || !SUBJECT_TOKEN.test(agent)) {
      throw new UsageError(
        NAME,
        agent === undefined
          ? `${where} has no agent_name to take the subject from: give --agent <name>`
          : `agent name ${JSON.stringify(agent)} cannot be a subject token (no spaces, dots, * or >): give --agent <name>`,
      );
    }
    const validated =
      parseError === undefined &&
      agentSignalSchema.safeParse(parsed).success &&
      (parsed as AgentSignal).agent_name === agent;
    return { subject: signalSubject(agent), payload: fileBytes, msgId, validated };
  }

  if (parseError !== undefined) throw new CliError(`invalid agent signal: not JSON: ${parseError} (${where})`, 2);
  const signal = validateSignal(parsed, where);
  if (options.agent !== undefined && options.agent !== signal.agent_name) {
    throw new CliError(
      `invalid agent signal: agent_name: is ${JSON.stringify(signal.agent_name)} but --agent is ${JSON.stringify(options.agent)}; ` +
        `the subject's last token must equal agent_name (${where})`,
      2,
    );
  }
  return { subject: signalSubject(signal.agent_name), payload: fileBytes, msgId, validated: true };
}

/** `published signals.enriched.momentum -> SIGNALS #12`, and what else the ack says. */
function describeAck(request: PublishRequest, ack: PubAck): string {
  const notes = [
    ...(ack.duplicate
      ? [`duplicate: JetStream already had Nats-Msg-Id ${request.msgId ?? ''}, so it was not stored again`]
      : []),
    ...(request.validated ? [] : ['--allow-invalid: not a valid signal, published unchecked']),
  ];
  return `published ${request.subject} -> ${ack.stream} #${ack.seq}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

function isNoResponders(error: unknown): boolean {
  return (error as { code?: string }).code === ErrorCode.NoResponders;
}

async function readInput(file: string, ctx: CommandContext): Promise<Buffer> {
  try {
    return file === '-' ? await ctx.readStdin() : readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${file === '-' ? 'stdin' : file}: ${errorMessage(error)}`, 2, { cause: error });
  }
}

export const publishCommand: Command = {
  name: NAME,
  summary: 'publish one agent signal to NATS JetStream, as an agent would',
  usage: publishUsage,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(NAME, {
      args: argv,
      options: {
        agent: { type: 'string' },
        'corr-id': { type: 'string' },
        analysis: { type: 'string' },
        instrument: { type: 'string' },
        'agent-version': { type: 'string' },
        file: { type: 'string' },
        'msg-id': { type: 'string' },
        'allow-invalid': { type: 'boolean' },
      },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(NAME, `unexpected argument: ${positionals.join(' ')}`);
    const options: PublishOptions = {
      agent: values.agent,
      corrId: values['corr-id'],
      analysis: values.analysis,
      instrument: values.instrument,
      agentVersion: values['agent-version'],
      file: values.file,
      msgId: values['msg-id'],
      allowInvalid: values['allow-invalid'],
    };
    const fileBytes = options.file === undefined ? undefined : await readInput(options.file, ctx);
    const request = preparePublish(options, fileBytes, new Date());

    const config = loadConnectionConfig(ctx.env);
    const nc = await openNats(config);
    try {
      const js = nc.jetstream({ timeout: PUBLISH_ACK_TIMEOUT_MS });
      let ack: PubAck;
      try {
        ack = await js.publish(
          request.subject,
          request.payload,
          request.msgId !== undefined ? { msgID: request.msgId } : {},
        );
      } catch (error) {
        if (isNoResponders(error)) {
          throw new CliError(
            `no JetStream stream captures ${request.subject} on ${config.nats.servers.join(', ')} (NATS: no responders). ` +
              `The ${SIGNALS_STREAM} stream is created by the bridge when it starts: the bridge has not run yet against this NATS. ` +
              'Start it, then publish again.',
            1,
            { cause: error },
          );
        }
        throw new CliError(`publishing to ${request.subject} failed: ${errorMessage(error)}`, 1, { cause: error });
      }
      ctx.out(describeAck(request, ack));
    } finally {
      await nc.close();
    }
  },
};
