import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** A database server started from Debian's packages in a temporary folder, for tests. */
export interface TestDatabase extends AsyncDisposable {
  url: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function run(command: string[], what: string) {
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${what} failed: ${result.stderr.toString() || result.stdout.toString()}`);
}

const isRoot = process.getuid?.() === 0;

export function postgresBinaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const bin = version ? join(root, version, "bin") : undefined;
  return bin && existsSync(join(bin, "pg_ctl")) ? bin : undefined;
}

/** PostgreSQL refuses to run as root: as root, it runs as the `postgres` user the Debian package creates. */
export async function startPostgres(): Promise<TestDatabase> {
  const bin = postgresBinaries();
  if (!bin) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  const dir = mkdtempSync("/tmp/edgetrain-pg-");
  chmodSync(dir, 0o755);
  const data = join(dir, "data");
  mkdirSync(data);
  const as = isRoot ? ["runuser", "-u", "postgres", "--"] : [];
  if (isRoot) {
    const { uid, gid } = userIds("postgres");
    chownSync(data, uid, gid);
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  run([...as, join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "edgetrain", "--no-sync"], "initdb");
  run(
    [
      ...as,
      join(bin, "pg_ctl"),
      "-D",
      data,
      "-l",
      join(dir, "log"),
      "-o",
      `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "-w",
      "start",
    ],
    "pg_ctl start",
  );
  return {
    url: `postgres://edgetrain@127.0.0.1:${port}/postgres`,
    async [Symbol.asyncDispose]() {
      Bun.spawnSync([...as, join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function mariadbBinaries(): { server: string; install: string } | undefined {
  const server = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"].find(existsSync);
  const install = ["/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"].find(existsSync);
  return server && install ? { server, install } : undefined;
}

export async function startMariadb(): Promise<TestDatabase> {
  const bins = mariadbBinaries();
  if (!bins) throw new Error("MariaDB is not installed (apt-get install mariadb-server)");
  const dir = mkdtempSync("/tmp/edgetrain-maria-");
  const data = join(dir, "data");
  const user = isRoot ? "root" : (process.env.USER ?? "nobody");
  run(
    [
      bins.install,
      "--no-defaults",
      `--datadir=${data}`,
      `--user=${user}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
    ],
    "mariadb-install-db",
  );
  const port = await freePort();
  const server = Bun.spawn(
    [
      bins.server,
      "--no-defaults",
      `--datadir=${data}`,
      `--socket=${join(dir, "sock")}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--user=${user}`,
      "--skip-log-bin",
      `--pid-file=${join(dir, "pid")}`,
      "--innodb-flush-log-at-trx-commit=0",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const url = `mysql://root@127.0.0.1:${port}/mysql`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const sql = new Bun.SQL(url);
      await sql`SELECT 1`;
      await sql.close();
      break;
    } catch (error) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`MariaDB did not start: ${String(error)}`);
      await Bun.sleep(200);
    }
  }
  return {
    url,
    async [Symbol.asyncDispose]() {
      server.kill("SIGKILL");
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A system user's ids, for handing a server's folder to the user it drops to when started as root. */
export function userIds(name: string): { uid: number; gid: number } {
  const line = Bun.spawnSync(["getent", "passwd", name]).stdout.toString().trim().split(":");
  return { uid: Number(line[2]), gid: Number(line[3]) };
}
