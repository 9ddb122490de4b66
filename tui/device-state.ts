/**
 * A fleet device's state in one word: online or offline, or unregistered for one heard only in heartbeats or a
 * status that never sent its info: rollouts leave it out, so it is shown apart from offline. Shared by
 * `edgetrain fleet` and the TUI's Fleet screen.
 */
export function stateOf(device: { registered: boolean; online: boolean }): "online" | "offline" | "unregistered" {
  return device.registered ? (device.online ? "online" : "offline") : "unregistered";
}
