import { availableParallelism, cpus, release } from "node:os";
import { freeSpace } from "../files/disk-usage.ts";
import type { OnnxRuntimeRequest } from "../inference/onnx-runtime.ts";
import type { ProbeResult } from "../inference/probe.ts";
import { ORT_NATIVE_MIN_GLIBC, versionAtLeast } from "./glibc.ts";
import { exists, readText } from "./host-files.ts";
import { detectJetson } from "./jetson.ts";
import { fittingProfile } from "./profile-fit.ts";
import { gpuLoadNodes, memoryInfo, thermalZones } from "./sensors.ts";

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckLine {
  name: string;
  status: CheckStatus;
  /** What was found, in words. */
  detail: string;
  /** Machine-readable facts behind the line. */
  data?: Record<string, unknown>;
}

export interface CheckReport {
  ok: boolean;
  lines: CheckLine[];
  /** The built-in profile that fits this machine. */
  profile: string;
}

export interface CheckRequest {
  /** `/` on a real machine; a recorded tree in tests. */
  root: string;
  home: string;
  cacheDir: string;
  inferenceBackend: "auto" | "native" | "wasm";
  /** The C library version (glibcVersion() on a real machine), injected so recorded trees can say 2.27. */
  glibc: string | undefined;
  which: (command: string) => string | null;
  /** probeOnnxRuntime (a child process) on a real machine. */
  probeOnnxRuntime: (request: Pick<OnnxRuntimeRequest, "preference" | "cacheDir" | "glibc">) => Promise<ProbeResult>;
}

/** Looks at the machine and says what will work here, line by line. */
export async function checkMachine(request: CheckRequest): Promise<CheckReport> {
  const { root } = request;
  const real = root === "/";
  const lines: CheckLine[] = [];
  const add = (name: string, status: CheckStatus, detail: string, data?: Record<string, unknown>) =>
    lines.push({ name, status, detail, data });

  const cpuList = cpus();
  const cores = real
    ? availableParallelism()
    : Number(readText(root, "proc/cpuinfo")?.match(/^processor\s*:/gm)?.length ?? 0);
  const cpuModel =
    (real ? cpuList[0]?.model : undefined) ??
    /^model name\s*:\s*(.+)$/m.exec(readText(root, "proc/cpuinfo") ?? "")?.[1] ??
    "unknown";
  add("cpu", cores >= 2 ? "ok" : "warn", `${cpuModel}, ${cores} core(s), ${process.arch}`, {
    model: cpuModel,
    cores,
    arch: process.arch,
  });

  const memory = memoryInfo(root);
  if (memory)
    add(
      "memory",
      memory.totalMb >= 900 ? "ok" : "warn",
      `${memory.totalMb} MB total, ${memory.availableMb} MB available`,
      { ...memory },
    );
  else add("memory", "warn", "could not read /proc/meminfo");

  const disk = diskFree(request.home);
  if (disk) add("disk", disk.freeMb >= 1024 ? "ok" : "warn", `${disk.freeMb} MB free under ${disk.path}`, { ...disk });
  else add("disk", "warn", `could not measure free space under ${request.home}`);

  const kernel = real ? release() : (readText(root, "proc/sys/kernel/osrelease")?.trim() ?? "unknown");
  const psi = exists(root, "proc/pressure/cpu");
  const pressure = psi
    ? "pressure stall information available"
    : "no PSI (/proc/pressure): the governor reads /proc/stat";
  add("kernel", "ok", `Linux ${kernel}, ${pressure}`, { release: kernel, psi });

  const glibc = request.glibc;
  const nativeOrt = glibc !== undefined && versionAtLeast(glibc, ORT_NATIVE_MIN_GLIBC);
  const wasm = `native ONNX Runtime needs ${ORT_NATIVE_MIN_GLIBC}, inference will use its WebAssembly build`;
  add(
    "glibc",
    nativeOrt ? "ok" : "warn",
    glibc
      ? `${glibc}${nativeOrt ? "" : `: ${wasm}`}`
      : "not glibc: inference will use ONNX Runtime's WebAssembly build",
    { version: glibc, native_onnxruntime: nativeOrt },
  );

  const jetson = detectJetson(root);
  if (jetson)
    add(
      "jetson",
      "ok",
      `${jetson.model ?? "Jetson"}, L4T ` +
        `${jetson.l4t ?? "unknown"}${jetson.jetpack ? `, JetPack ${jetson.jetpack}` : ""}`,
      { ...jetson },
    );
  else add("jetson", "ok", "not a Jetson");

  const nvidiaSmi = request.which("nvidia-smi");
  const cudaVersion =
    readText(root, "usr/local/cuda/version.json")?.match(
      /"cuda"\s*:\s*\{\s*"name"[^}]*"version"\s*:\s*"([^"]+)"/,
    )?.[1] ?? readText(root, "usr/local/cuda/version.txt")?.trim();
  const nvidiaDevice = exists(root, "dev/nvidia0");
  const jetsonGpu = exists(root, "dev/nvhost-ctrl-gpu") || exists(root, "dev/nvgpu/igpu0/ctrl");
  const cuda = Boolean(cudaVersion || nvidiaDevice || jetsonGpu);
  add(
    "cuda",
    "ok",
    cuda
      ? `CUDA ${cudaVersion ?? "driver"} ` +
          `present${nvidiaDevice ? ", /dev/nvidia0" : ""}${jetsonGpu ? ", Jetson integrated GPU" : ""}`
      : "no CUDA device: training and inference run on the CPU",
    { available: cuda, version: cudaVersion, nvidia_smi: nvidiaSmi },
  );

  const loadNodes = gpuLoadNodes(root);
  const tegrastats = request.which("tegrastats");
  const gpuSources = [
    ...loadNodes,
    ...(tegrastats ? [tegrastats] : []),
    ...(nvidiaSmi ? [`${nvidiaSmi} --query-gpu`] : []),
  ];
  add("gpu load", "ok", gpuSources.length ? `from ${gpuSources.join(", ")}` : "no GPU load source found", {
    sources: gpuSources,
  });

  const zones = thermalZones(root);
  add(
    "temperature",
    zones.length ? "ok" : "warn",
    zones.length
      ? zones.map((z) => `${z.type} ${z.celsius?.toFixed(1) ?? "?"} °C`).join(", ")
      : "no thermal zone: max_temperature cannot be enforced",
    { zones },
  );

  const runtime = await request.probeOnnxRuntime({
    preference: request.inferenceBackend,
    cacheDir: request.cacheDir,
    glibc: glibc ?? null,
  });
  if (runtime.ok) {
    const optional = runtime.optionalProviders?.length
      ? `; ${runtime.optionalProviders.join(", ")} once their libraries are installed`
      : "";
    add(
      "onnxruntime",
      runtime.backend === "native" ? "ok" : "warn",
      `ONNX Runtime ${runtime.version} (${runtime.backend}) loads; providers ` +
        `${runtime.providers?.join(", ")}${optional}${runtime.note ? ` — ${runtime.note}` : ""}`,
      {
        backend: runtime.backend,
        version: runtime.version,
        providers: runtime.providers,
        optional_providers: runtime.optionalProviders ?? [],
      },
    );
  } else {
    add("onnxruntime", "fail", `ONNX Runtime does not load: ${runtime.error}`);
  }

  const fit = fittingProfile({
    jetson,
    nvidiaGpu: nvidiaDevice || Boolean(nvidiaSmi),
    memoryMb: memory?.totalMb,
    product: readText(root, "sys/class/dmi/id/product_name")?.trim(),
  });
  add("profile", "ok", `${fit.profile} fits this machine (${fit.reason})`, { ...fit });

  return { ok: !lines.some((line) => line.status === "fail"), lines, profile: fit.profile };
}

function diskFree(path: string): { path: string; freeMb: number } | undefined {
  const free = freeSpace(path);
  return free && { path: free.path, freeMb: Math.round(free.bytes / 1048576) };
}
