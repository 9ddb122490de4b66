/** What a trigger plugin's setup() returns. */
export interface TriggerFire {
  /** Keys that need a run; undefined means every key of the job. */
  keys?: string[];
  reason: string;
}

export interface TriggerHooks {
  /** Starts watching; returns a function that stops it. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a watch() that needs no stop may leave out its return.
  watch(fire: (event: TriggerFire) => void): (() => void) | void;
}
