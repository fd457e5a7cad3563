/**
 * Names of the dispatch's messages, for readers that do not load the workflow library (the lean
 * reads of `status`); messages.ts defines the messages with them.
 */
export const PROGRESS_QUERY = 'progress';
