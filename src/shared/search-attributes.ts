/**
 * The search attributes a correlation workflow sets, so runs can be found in the Temporal UI and by
 * visibility queries (e.g. `CorrelationStatus = "timed_out" AND Instrument = "BTC/USD"`). They must
 * be registered on the namespace first: deploy/temporal/setup-namespace.sh, docker-compose.yml,
 * and the local stack do it.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  correlationId: defineSearchAttributeKey('CorrelationId', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('CorrelationStatus', SearchAttributeType.KEYWORD),
  action: defineSearchAttributeKey('DecisionAction', SearchAttributeType.KEYWORD),
  route: defineSearchAttributeKey('DecisionRoute', SearchAttributeType.KEYWORD),
  instrument: defineSearchAttributeKey('Instrument', SearchAttributeType.KEYWORD),
  policyVersion: defineSearchAttributeKey('PolicyVersion', SearchAttributeType.KEYWORD),
  partialData: defineSearchAttributeKey('PartialData', SearchAttributeType.BOOL),
  missingAgents: defineSearchAttributeKey('MissingAgents', SearchAttributeType.KEYWORD_LIST),
} as const;

const CLI_TYPE_NAMES: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** Name → type, as `temporal operator search-attribute create` and `--search-attribute` take them. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, string> = Object.fromEntries(
  Object.values(SEARCH_ATTRIBUTES).map((key) => [key.name, CLI_TYPE_NAMES[key.type]]),
);
