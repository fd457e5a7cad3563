import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Registered by ./temporal-dev.sh (and by operators on other servers); Keyword type. */
export const DispatchIdKey = defineSearchAttributeKey('DispatchId', SearchAttributeType.KEYWORD);
export const AnalysisNameKey = defineSearchAttributeKey('AnalysisName', SearchAttributeType.KEYWORD);
export const RetryOfKey = defineSearchAttributeKey('RetryOf', SearchAttributeType.KEYWORD);
