/**
 * The error of a failed file write, naming the file, and saying so when the disk is full. It keeps the
 * system error's `code` (ENOSPC, EACCES…), so callers still recognise the condition.
 */
export function writeFailure(file: string, error: unknown): NodeJS.ErrnoException {
  const cause = error as NodeJS.ErrnoException | undefined;
  const reason =
    cause?.code === "ENOSPC"
      ? "the disk is full (no space left on device)"
      : error instanceof Error
        ? error.message
        : String(error);
  const failure: NodeJS.ErrnoException = new Error(`could not write ${file}: ${reason}`, { cause: error });
  if (cause?.code) Object.assign(failure, { code: cause.code, errno: cause.errno, syscall: cause.syscall });
  failure.path = file;
  return failure;
}
