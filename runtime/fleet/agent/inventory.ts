import si from "systeminformation";
import { messageOf } from "../../errors.ts";
import { type CheckRequest, checkMachine } from "../../hardware/check.ts";
import type { Logger } from "../../plugin-api.ts";

/**
 * The device's hardware for its registration, read once: systeminformation's one-off facts (CPU, memory,
 * GPU controllers, OS, kernel, disks, network interfaces) and what `edgetrain check` knows (Jetson, L4T or
 * JetPack, glibc, CUDA, ONNX Runtime and its providers). A part that cannot be read is left out.
 */
export async function hardwareInventory(
  check: CheckRequest | undefined,
  logger: Logger,
): Promise<Record<string, unknown>> {
  const inventory: Record<string, unknown> = {};
  const part = async (name: string, read: () => Promise<unknown>) => {
    try {
      inventory[name] = await read();
    } catch (error) {
      logger.debug(`could not read the ${name} for the fleet registration`, { error: messageOf(error) });
    }
  };
  await part("cpu", async () => {
    const cpu = await si.cpu();
    return {
      manufacturer: cpu.manufacturer,
      brand: cpu.brand,
      cores: cpu.cores,
      physical_cores: cpu.physicalCores,
      speed_ghz: cpu.speed,
    };
  });
  await part("memory", async () => ({ total_bytes: (await si.mem()).total }));
  await part("gpus", async () =>
    (await si.graphics()).controllers.map((g) => ({ vendor: g.vendor, model: g.model, vram_mb: g.vram ?? undefined })),
  );
  await part("os", async () => {
    const os = await si.osInfo();
    return {
      platform: os.platform,
      distro: os.distro,
      release: os.release,
      kernel: os.kernel,
      arch: os.arch,
      hostname: os.hostname,
    };
  });
  await part("disks", async () =>
    (await si.diskLayout()).map((d) => ({ name: d.name, type: d.type, size_bytes: d.size })),
  );
  await part("network", async () =>
    [await si.networkInterfaces()]
      .flat()
      .filter((n) => !n.internal)
      .map((n) => ({
        name: n.iface,
        mac: n.mac,
        ipv4: n.ip4 || undefined,
        ipv6: n.ip6 || undefined,
        speed_mbps: n.speed ?? undefined,
      })),
  );
  if (check) {
    await part("check", async () => {
      const report = await checkMachine(check);
      const data = (name: string) => {
        const line = report.lines.find((found) => found.name === name);
        return line && { status: line.status, detail: line.detail, ...line.data };
      };
      return {
        jetson: data("jetson"),
        glibc: data("glibc"),
        cuda: data("cuda"),
        onnxruntime: data("onnxruntime"),
        fitting_profile: report.profile,
      };
    });
  }
  return inventory;
}
