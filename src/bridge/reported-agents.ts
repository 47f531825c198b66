/**
 * Which agents of an open correlation this bridge has already handed to Temporal, so a later
 * message that completes the set is handed over at once instead of waiting out a batch window,
 * and goes as a signal to the running correlation rather than as a start. An aid only: bounded,
 * forgetful (oldest first), and per bridge; a guess it gets wrong costs one more call.
 */
export class ReportedAgents {
  private readonly byCorrelation = new Map<string, Set<string>>();

  constructor(
    private readonly expected: readonly string[],
    private readonly maxCorrelations = 10_000,
  ) {}

  /** Whether these agents, with those already handed over, are every expected agent. */
  completes(corrId: string, agents: Iterable<string>): boolean {
    const seen = new Set(this.byCorrelation.get(corrId));
    for (const agent of agents) seen.add(agent);
    return this.expected.every((agent) => seen.has(agent));
  }

  /** Whether this bridge handed over messages of the correlation before, and not yet every expected agent: it runs. */
  has(corrId: string): boolean {
    return this.byCorrelation.has(corrId);
  }

  /** Records agents handed over; a correlation with every expected agent in needs no record. */
  record(corrId: string, agents: Iterable<string>): void {
    const seen = this.byCorrelation.get(corrId) ?? new Set<string>();
    for (const agent of agents) seen.add(agent);
    this.byCorrelation.delete(corrId);
    if (this.expected.every((agent) => seen.has(agent))) return;
    this.byCorrelation.set(corrId, seen);
    if (this.byCorrelation.size > this.maxCorrelations)
      this.byCorrelation.delete(this.byCorrelation.keys().next().value as string);
  }

  get size(): number {
    return this.byCorrelation.size;
  }
}
