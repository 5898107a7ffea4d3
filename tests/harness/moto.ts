// Starts a real moto server (S3 + KMS emulator) on 127.0.0.1 for the tests; it lives in the project-local
// .venv-moto, created by scripts/ensure-moto.sh when missing. moto accepts any credentials and keeps all
// state in memory, so one server per region-role is enough and resetMoto() wipes it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { runProcess } from './run-process.js';
import { startServiceProcess, waitUntilServiceReady } from './service-process.js';

/** Credentials moto accepts (it accepts any); use with every S3/KMS client pointed at moto. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/** A running moto server. */
export interface MotoServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`; use with `forcePathStyle: true` for S3. */
  endpoint: string;
  /** The AWS region clients of this server should use. moto itself serves every region. */
  region: string;
  /** The server's process id (a test may SIGSTOP it to stage an outage; use a server of its own for that). */
  pid: number;
  /** Kills the server and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startMoto}. */
export interface StartMotoOptions {
  /** Default: `eu-central-1`. */
  region?: string;
  /** How long to wait for the first HTTP answer. Default: 60 000 ms. */
  readyTimeoutMs?: number;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const motoBinary = `${repoRoot}.venv-moto/bin/moto_server`;
let ensuring: Promise<unknown> | undefined;

/** Creates the moto virtualenv once per process if its binary is missing (a fresh machine). */
function ensureMotoInstalled(): Promise<unknown> {
  if (existsSync(motoBinary)) return Promise.resolve();
  ensuring ??= runProcess('bash', [`${repoRoot}scripts/ensure-moto.sh`], { timeoutMs: 600_000 });
  return ensuring;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Starts moto on a free 127.0.0.1 port and resolves once it answers HTTP. Retries on a port race. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const region = options.region ?? 'eu-central-1';
  await ensureMotoInstalled();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const service = startServiceProcess({
      command: motoBinary,
      args: ['-H', '127.0.0.1', '-p', String(port)],
      env: { ...process.env, AWS_DEFAULT_REGION: region, PYTHONUNBUFFERED: '1' },
    });
    try {
      await waitUntilServiceReady(service, `moto server on ${endpoint}`, () => answers(endpoint), options.readyTimeoutMs ?? 60_000);
      return { endpoint, region, pid: service.child.pid!, stop: () => service.stop() };
    } catch (error) {
      await service.stop();
      if (attempt < 3 && /address already in use/i.test(service.outputTail())) continue;
      throw error;
    }
  }
}

/** Wipes all state (buckets, keys) of the moto server at `endpoint`. */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`moto reset at ${endpoint} failed with HTTP ${response.status}`);
}
