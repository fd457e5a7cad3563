import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Registered on a namespace by `analysis setup` (and by ./temporal-dev.sh's dev server at its
 * start); all of Keyword type.
 */
export const DispatchIdKey = defineSearchAttributeKey('DispatchId', SearchAttributeType.KEYWORD);
export const AnalysisNameKey = defineSearchAttributeKey('AnalysisName', SearchAttributeType.KEYWORD);
export const RetryOfKey = defineSearchAttributeKey('RetryOf', SearchAttributeType.KEYWORD);

/** Every search attribute the project sets or queries. */
export const PROJECT_SEARCH_ATTRIBUTES = [DispatchIdKey, AnalysisNameKey, RetryOfKey];
