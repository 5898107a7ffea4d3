// The repository a command works on, opened for the command and always closed after it: one place for what every
// command did by hand (open, try, finally close), so none forgets the command's signal or the close.
import { openRepository, type Repository } from '../repository/open-repository.js';
import type { KeyOpenMode } from '../repository/open-repository-key.js';
import type { CommandContext } from './command-context.js';

/**
 * Open the configured repository for `mode` (`write` checks and records the key, `read` never creates one), run
 * `body` with it and close it, whatever happens. Opening listens to the command's signal (SIGINT/SIGTERM).
 */
export async function withRepository<T>(ctx: CommandContext, mode: KeyOpenMode, body: (repository: Repository) => Promise<T>): Promise<T> {
  const repository = await openRepository(ctx.config(), mode, ctx.signal);
  try {
    return await body(repository);
  } finally {
    repository.close();
  }
}
