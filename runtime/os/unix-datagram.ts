import { FFIType, ptr } from "bun:ffi";
import { withLibc } from "./libc.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
/** A peer gone must not raise SIGPIPE in the daemon. */
const MSG_NOSIGNAL = 0x4000;
/** struct sockaddr_un: a 2-byte family, then 108 bytes of path. */
const SUN_PATH_OFFSET = 2;
const SUN_PATH_SIZE = 108;

/**
 * Sends one datagram to the AF_UNIX socket at `path` (a leading `@` names the abstract namespace).
 * Bun has datagram sockets for UDP only, so this goes through libc. Returns whether the datagram went;
 * false where libc cannot be called, the path is too long, or the socket refuses it.
 */
export function sendUnixDatagram(path: string, message: string): boolean {
  const address = socketAddress(path);
  if (!address) return false;
  const payload = Buffer.from(message);
  const symbols = {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: {
      args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i64,
    },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  } as const;
  const sent = withLibc(symbols, (libc) => {
    const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    try {
      const count = libc.sendto(fd, ptr(payload), payload.length, MSG_NOSIGNAL, ptr(address.bytes), address.length);
      return Number(count) === payload.length;
    } finally {
      libc.close(fd);
    }
  });
  return sent ?? false;
}

/** The sockaddr_un of `path` and its length: a file path NUL-terminated, an abstract name as long as it is. */
function socketAddress(path: string): { bytes: Uint8Array; length: number } | undefined {
  const abstract = path.startsWith("@");
  const name = Buffer.from(abstract ? `\0${path.slice(1)}` : path);
  if (name.length === 0 || name.length >= SUN_PATH_SIZE) return undefined;
  const bytes = new Uint8Array(SUN_PATH_OFFSET + SUN_PATH_SIZE);
  // sa_family_t is in the machine's own byte order.
  new Uint16Array(bytes.buffer, 0, 1)[0] = AF_UNIX;
  bytes.set(name, SUN_PATH_OFFSET);
  return { bytes, length: SUN_PATH_OFFSET + name.length + (abstract ? 0 : 1) };
}
