/** A session kept loaded, as admission sees it. */
export interface Resident {
  model: string;
  /** Estimated memory of the session. */
  bytes: number;
  /** When it was loaded and kept (the pool's clock). */
  keptSince: number;
}

export interface AdmissionLimits {
  /** `inference.memory_budget_mb`, in bytes. */
  budgetBytes: number;
  /** `inference.max_loaded`: a cap on the count besides the budget; none when left out. */
  maxLoaded?: number;
  /** `inference.min_residence`: a session kept is not evicted for this long. */
  minResidenceMs: number;
}

/** Requests per model tracked between halvings, in proportion to the models tracked (at least MIN_TRACKED). */
const AGING_SAMPLES_PER_MODEL = 32;
const MIN_TRACKED = 16;

/**
 * How often each model's sessions were asked for, with old requests fading: once the requests recorded
 * since the last halving reach AGING_SAMPLES_PER_MODEL per model tracked, every count halves (TinyLFU's
 * reset), so that a model popular an hour ago does not hold its place against one popular now. Counted per
 * model, not per version, so that a new version starts with its model's popularity.
 */
export class RequestFrequency {
  private readonly counts = new Map<string, number>();
  private samples = 0;

  record(model: string): void {
    this.counts.set(model, (this.counts.get(model) ?? 0) + 1);
    if (++this.samples >= AGING_SAMPLES_PER_MODEL * Math.max(MIN_TRACKED, this.counts.size)) this.age();
  }

  of(model: string): number {
    return this.counts.get(model) ?? 0;
  }

  private age(): void {
    this.samples = 0;
    for (const [model, count] of this.counts) {
      const halved = count >> 1;
      if (halved === 0) this.counts.delete(model);
      else this.counts.set(model, halved);
    }
  }
}

/**
 * The residents to evict so that `candidate` is kept: none when it fits; undefined when it is not to be
 * kept, because the room could only come from sessions kept for less than the minimum residence time, or
 * because the sessions it would displace were asked for, together, at least as often as it (so that no
 * session is evicted for one that would itself be evicted at once). `residents` come least recently used
 * first, and victims are taken in that order. A session larger than the whole budget is kept only alone.
 */
export function victimsFor<T extends Resident>(
  candidate: { model: string; bytes: number },
  residents: T[],
  limits: AdmissionLimits,
  frequency: RequestFrequency,
  now: number,
): T[] | undefined {
  let bytes = candidate.bytes + residents.reduce((sum, resident) => sum + resident.bytes, 0);
  let count = residents.length + 1;
  const fits = () =>
    (bytes <= limits.budgetBytes || count === 1) && (limits.maxLoaded === undefined || count <= limits.maxLoaded);
  const victims: T[] = [];
  for (const resident of residents) {
    if (fits()) break;
    if (now - resident.keptSince < limits.minResidenceMs) continue;
    victims.push(resident);
    bytes -= resident.bytes;
    count--;
  }
  if (!fits()) return undefined;
  if (victims.length === 0) return victims;
  const displaced = victims.reduce((sum, victim) => sum + frequency.of(victim.model), 0);
  return frequency.of(candidate.model) > displaced ? victims : undefined;
}
