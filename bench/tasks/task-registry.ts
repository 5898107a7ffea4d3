// Every task a benchmark child can run, by name, with its parameter and result types: the contract between
// run-in-child.ts (parent) and child-main.ts (child). Loaded lazily, so a child holds only its own task's
// modules in memory (its peak RSS is then what that part of Lifeboat needs, not the whole bench).

export const TASKS = {
  'pipeline-write': async () => (await import('./pipeline-tasks.js')).runPipelineWrite,
  'pipeline-read': async () => (await import('./pipeline-tasks.js')).runPipelineRead,
  'full-backup': async () => (await import('./full-backup-task.js')).runFullBackupTask,
  'wal-archive': async () => (await import('./wal-archive-task.js')).runWalArchiveTask,
  'wal-scan': async () => (await import('./wal-scan-task.js')).runWalScanTask,
  restore: async () => (await import('./restore-task.js')).runRestoreTask,
  'cpu-floor': async () => (await import('./cpu-floor-task.js')).runCpuFloor,
} as const;

export type TaskName = keyof typeof TASKS;
type TaskFunction<N extends TaskName> = Awaited<ReturnType<(typeof TASKS)[N]>>;
export type TaskParams<N extends TaskName> = Parameters<TaskFunction<N>>[0];
export type TaskResult<N extends TaskName> = Awaited<ReturnType<TaskFunction<N>>>;
