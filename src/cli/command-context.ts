// What every command receives: the config (loaded lazily, once, from the global --config), the logger, and
// where to write output. Commands never read process.env or global state themselves.
import { loadConfig, type RuntimeConfig } from '../config/index.js';
import { createLogger, type Logger } from '../log/index.js';

export interface CommandContext {
  /** The resolved config; throws a config error the first time if it cannot be loaded. */
  config(): RuntimeConfig;
  /** The config file path in use. */
  readonly configPath: string;
  readonly log: Logger;
  /** Command output (stdout): results, tables, JSON. Logs go to stderr. */
  out(text: string): void;
  /** Fires when the process receives SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  readonly env: NodeJS.ProcessEnv;
}

export interface ContextOptions {
  configPath: string | undefined;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  out: (text: string) => void;
}

/** Default config path: --config, else LIFEBOAT_CONFIG, else ./lifeboat.yaml. */
export function defaultConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.LIFEBOAT_CONFIG ?? './lifeboat.yaml';
}

export function createCommandContext(options: ContextOptions): CommandContext {
  const configPath = defaultConfigPath(options.configPath, options.env);
  let config: RuntimeConfig | undefined;
  let log: Logger | undefined;
  return {
    configPath,
    env: options.env,
    signal: options.signal,
    out: options.out,
    config() {
      // No cluster is fine here (a restore-only config): the commands that work on one say so (selectCluster).
      config ??= loadConfig(configPath, options.env);
      return config;
    },
    get log() {
      // The level comes from the config when it loads cleanly; a broken config must still be reportable.
      if (!log) {
        let level: string | undefined = options.env.LIFEBOAT_LOG_LEVEL;
        if (!level) {
          try {
            level = this.config().log.level;
          } catch {
            level = 'info';
          }
        }
        log = createLogger({ level });
      }
      return log;
    },
  };
}
