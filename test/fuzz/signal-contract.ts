/**
 * The agent-signal contract as docs/SPEC.md ("Input: agent signals", "How this project fills in the
 * contract") and schemas/agent_signal.schema.json state it, written out here. The fuzz tests build
 * their valid and invalid messages from these, never from src's own patterns and constants, so a
 * wrong pattern or limit in src makes them fail instead of agreeing with itself.
 * test/fuzz/contracts.fuzz.test.ts checks that SPEC.md and the schema file still say the same.
 */

/** `agent_name`: `[a-z0-9_-]{1,64}`; it is also the last token of the signal's subject. */
export const AGENT_NAME = /^[a-z0-9_-]{1,64}$/;
export const AGENT_NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_-';
export const AGENT_NAME_MAX = 64;
/** Names that match AGENT_NAME but are refused (`schema_violation`): every plain object has them. */
export const RESERVED_AGENT_NAMES: readonly string[] = ['__proto__', 'constructor'];
/** `corr_id`: 1–128 characters of `[A-Za-z0-9._:-]`. */
export const CORR_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const CORR_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-';
export const CORR_ID_MAX = 128;
/** `schema_version`: semver, major 1 (the schema's `^1\.`); anything else is `unsupported_schema_version`. */
export const SUPPORTED_SCHEMA_MAJOR = 1;
export const DEFAULT_SCHEMA_VERSION = '1.0.0';
export const TREND_DIRECTIONS = ['bullish', 'bearish', 'neutral'] as const;
export const RISK_LEVELS = ['low', 'medium', 'high', 'blocked'] as const;
/** `agent_version` and `source_signal.instrument`: at most 64 characters (the schema's maxLength). */
export const MAX_SHORT_TEXT = 64;
/** Message size limit: 64 KiB by default. */
export const MAX_BYTES = 64 * 1024;
/** A message nested deeper than 64 levels is refused as `schema_violation`. */
export const MAX_NESTING_DEPTH = 64;
/** Stream `SIGNALS`, subjects `signals.enriched.<agent>`. */
export const SIGNAL_SUBJECT_PREFIX = 'signals.enriched.';
export const signalSubject = (agent: string): string => `${SIGNAL_SUBJECT_PREFIX}${agent}`;
/** Workflow ID: `corr-<corr_id>`. */
export const WORKFLOW_ID_PREFIX = 'corr-';
/** The published JSON Schema of a signal, relative to the repository root. */
export const AGENT_SIGNAL_SCHEMA_FILE = 'schemas/agent_signal.schema.json';
