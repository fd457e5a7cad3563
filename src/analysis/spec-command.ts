/**
 * Why a worker will not run a `command` given in a dispatch spec, and what to do instead: the
 * operator registers the program, or allows spec commands on the workers.
 */
export function specCommandRefusal(name: string): string {
  return `analysis "${name}": the workers do not run a "command" given in a dispatch spec. Register the program on the workers with a manifest in the analyses folder (e.g. analyses/<name>.analysis.json holding name, command, parameters and outputs; see README, "Writing an analysis") and drop "command" from the spec, or start the workers with ANALYSIS_ALLOW_SPEC_COMMANDS=1`;
}
