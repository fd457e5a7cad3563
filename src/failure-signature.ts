/**
 * Failures grouped by cause. Error messages of the same cause differ in what they name: an asset,
 * a path, a task hash, a count, a time. Replacing those with placeholders gives a signature that
 * is the same for every task that failed the same way, so that 900 failures read as the few
 * causes they are. Used by `status` (over the failures the dispatch keeps) and by `report`.
 */

/** Longest signature kept: enough to tell causes apart, short enough for a table cell. */
const SIGNATURE_LENGTH = 200;

/** Replacements in order: the specific shapes before the general ones they contain. */
const RULES: Array<[RegExp, string]> = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  // A scheme starts where a run of scheme characters starts: tried from inside the run as well,
  // `a.a.a...` without `://` would be scanned to its end once per letter, quadratic in its length.
  [/(?<![\w+.-])[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>()[\]{},;]+/gi, '<url>'],
  // An absolute or relative path of at least one separator; a trailing colon or dot is punctuation.
  [/(?<![\w.<>])(?:~|\.{1,2})?(?:\/[^\s'"`<>()[\]{},;:]+)+\/?(?<![.])/g, '<path>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // Hashes and ids: eight or more hex digits with at least one digit (so that words stay words).
  [/\b(?=[a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>'],
  // Numbers not glued to a letter before them: "asset_0042" and "42 s" vary, "s3" and "utf8" do not.
  [/(?<![a-z])[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?/gi, '<n>'],
];

/** The cause of a failure, with what varies between tasks replaced by placeholders. */
export function errorSignature(message: string): string {
  let text = message.replace(/\s+/g, ' ').trim();
  for (const [pattern, placeholder] of RULES) text = text.replace(pattern, placeholder);
  if (text.length > SIGNATURE_LENGTH) text = `${text.slice(0, SIGNATURE_LENGTH - 1)}…`;
  return text || '(no message)';
}

/** One failed task, as the dispatch and its jobs report it. */
export interface FailureSample {
  hash: string;
  asset_name: string;
  error: string;
  analysis_name?: string;
}

export interface FailureGroup {
  signature: string;
  /** Failed tasks of this cause among the samples. */
  count: number;
  /** The first message seen of this cause, as it was. */
  example_error: string;
  /** The first assets that failed this way. */
  example_assets: string[];
  /** Analyses whose tasks failed this way, when the samples name them. */
  analyses: string[];
}

export interface FailureGroups {
  /** The largest groups, largest first. */
  groups: FailureGroup[];
  /** Failures sampled (one per task: a task seen twice counts once). */
  sampled: number;
  /** Groups beyond the ones listed, and the failures in them. */
  other_groups: number;
  other_failures: number;
}

/**
 * Groups failures by signature. Bounded whatever the input: `top` groups of `examples` assets
 * each; the counts stay exact. Samples of the same task (the dispatch's and its job's) count once;
 * failures of no task (a job that failed as a whole) count each.
 */
export function groupFailures(
  samples: Iterable<FailureSample>,
  options: { top?: number; examples?: number } = {},
): FailureGroups {
  const top = options.top ?? 10;
  const examples = options.examples ?? 3;
  const seen = new Set<string>();
  const groups = new Map<string, FailureGroup & { analysisSet: Set<string> }>();
  let sampled = 0;
  for (const sample of samples) {
    if (sample.hash) {
      if (seen.has(sample.hash)) continue;
      seen.add(sample.hash);
    }
    sampled++;
    const signature = errorSignature(sample.error);
    let group = groups.get(signature);
    if (!group) {
      group = {
        signature,
        count: 0,
        example_error: sample.error.slice(0, 1000),
        example_assets: [],
        analyses: [],
        analysisSet: new Set(),
      };
      groups.set(signature, group);
    }
    group.count++;
    if (
      sample.asset_name &&
      group.example_assets.length < examples &&
      !group.example_assets.includes(sample.asset_name)
    )
      group.example_assets.push(sample.asset_name);
    if (sample.analysis_name) group.analysisSet.add(sample.analysis_name);
  }
  const sorted = [...groups.values()].sort(
    (a, b) => b.count - a.count || a.signature.localeCompare(b.signature),
  );
  const listed = sorted.slice(0, top).map(({ analysisSet, ...group }) => ({
    ...group,
    analyses: [...analysisSet].sort(),
  }));
  const rest = sorted.slice(top);
  return {
    groups: listed,
    sampled,
    other_groups: rest.length,
    other_failures: rest.reduce((sum, group) => sum + group.count, 0),
  };
}
