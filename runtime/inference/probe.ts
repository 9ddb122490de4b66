import { messageOf } from "../errors.ts";
import { embeddedRuntimeFiles } from "./embedded-runtime-files.ts";
import { loadOnnxRuntime, type OnnxRuntimeRequest } from "./onnx-runtime.ts";

export interface ProbeResult {
  ok: boolean;
  backend?: "native" | "wasm";
  version?: string;
  providers?: string[];
  optionalProviders?: string[];
  note?: string;
  error?: string;
  /** The probe process itself could not be started (not a failure of ONNX Runtime): probe in this process instead. */
  unstarted?: boolean;
}

export const PROBE_COMMAND = "__probe-onnxruntime";
const PROBE_TIME_LIMIT_MS = 120_000;

type ProbeRequest = Pick<OnnxRuntimeRequest, "preference" | "cacheDir" | "glibc">;

/** The command that starts this same edgetrain again: the binary itself, or bun with the entry script. */
function selfCommand(): string[] {
  return Bun.isStandaloneExecutable ? [process.execPath] : [process.execPath, Bun.main];
}

/**
 * Loads ONNX Runtime in a child process first: a native library that crashes on load (a segfault under
 * emulation, a missing CPU feature) must become a failed check line, not a crashed edgetrain.
 */
export async function probeOnnxRuntime(request: ProbeRequest): Promise<ProbeResult> {
  const child = await runChild(request);
  if (child.ok) return child;
  // Without native ONNX Runtime nothing loaded can crash this process: where no child started, probe here.
  const triesNative = request.preference !== "wasm" && (embeddedRuntimeFiles.carried?.includes("native") ?? true);
  if (!triesNative) return child.unstarted ? probeInProcess(request) : child;
  const fallback = child.unstarted
    ? await probeInProcess({ ...request, preference: "wasm" })
    : await runChild({ ...request, preference: "wasm" });
  return fallback.ok
    ? { ...fallback, note: `native build failed (${child.error}); using WebAssembly` }
    : { ok: false, error: `${child.error}; WebAssembly: ${fallback.error}` };
}

async function runChild(request: ProbeRequest): Promise<ProbeResult> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([...selfCommand(), PROBE_COMMAND, JSON.stringify(request)], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: PROBE_TIME_LIMIT_MS,
      killSignal: "SIGKILL",
    });
  } catch (error) {
    return { ok: false, unstarted: true, error: `could not start a probe process: ${messageOf(error)}` };
  }
  const [stdout, code] = await Promise.all([new Response(proc.stdout as ReadableStream).text(), proc.exited]);
  if (proc.signalCode)
    return {
      ok: false,
      error:
        `${request.preference === "wasm" ? "WebAssembly" : "native"} ONNX Runtime crashed while loading ` +
        `(${proc.signalCode})`,
    };
  // 126/127: the kernel would not run this binary again (e.g. under qemu-user without binfmt_misc).
  if ((code === 126 || code === 127) && !stdout.trim())
    return { ok: false, unstarted: true, error: `could not start a probe process (exit ${code})` };
  try {
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ProbeResult;
  } catch {
    return { ok: false, error: `probe exited with code ${code} and no result` };
  }
}

export async function probeInProcess(request: ProbeRequest): Promise<ProbeResult> {
  try {
    const runtime = await loadOnnxRuntime(request);
    return {
      ok: true,
      backend: runtime.backend,
      version: runtime.version,
      providers: runtime.providers,
      optionalProviders: runtime.optionalProviders,
      note: runtime.note,
    };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}
