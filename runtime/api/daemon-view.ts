/** What the API may read of the daemon; routes depend on this, not on the daemon itself. */
export interface DaemonStatus {
  version: string;
  pid: number;
  started_at: string;
  uptime_s: number;
  profile: { name: string; files: string[]; loaded_at: string };
  device: { name: string; kind: string; accelerator: string };
  home: string;
  plugins: Array<{ kind: string; name: string; version: string; source: string }>;
  jobs: Array<{ name: string; strategy: string; enabled: boolean }>;
  state: { schema_version: number };
}

export interface DaemonView {
  status(): DaemonStatus;
  token(): string | undefined;
  /** Non-loopback binds require the token on every /v1 route. */
  exposed(): boolean;
}
