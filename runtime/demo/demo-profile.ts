/**
 * The demo's profile: per-player random forests on the latest 3 sessions (the newest held out), trained
 * when a model is missing or a new session lands, gated and activated, answered through a tiered cache.
 * The governor never holds the demo back: it should show the loop on any machine, busy or not.
 */
export const DEMO_PROFILE = `# Written by \`edgetrain demo\`; edit freely, it is rewritten only when missing.
extends: base
device:
  name: edgetrain-demo
governor:
  max_cpu_before: 100
  max_memory_before: 100
  pause_cpu: 100
  pause_memory: 100
  workers: 2
  max_concurrent_runs: 1
conflicts:
  # Try it: edgetrain hold player-dashboard --home edgetrain-demo -- sleep 120, then drop a session
  # (or run a job from the TUI): the job asks before training under the live dashboard.
  predictors:
    - name: player-dashboard
  ask_timeout: 2m
jobs:
  activity:
    strategy: random-forest
    options:
      n_estimators: 40
      max_depth: 8
      seed: 7
    data:
      source: sessions
      path: athletes
      sessions_to_use: 3
      holdout: last-session
      debounce: 1s
    triggers:
      - type: model-missing
        check_every: 5s
      - type: new-data
        poll: 1s
    constraints:
      not_during: [player-dashboard]
      on_conflict: ask
    deploy:
      - type: gate
        tolerance: 0.02
      - activate
cache:
  type: tiered
  ttl: 1h
  ttl_during_training: 24h
logging:
  level: info
`;

export const DEMO_DATA = { players: 30, sessions: 4, rows: 900, seed: 7 };
